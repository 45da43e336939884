"""What the catalog derives from files (chart certificates, secret rotation policy) is kept
until one of the files changes, so a warm service page parses no YAML at all."""
import os
import textwrap

import yaml

from portal.catalog import certificates, file_stamps, secrets_rotation

CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: {name}, namespace: shop}}
spec: {{secretName: {name}, dnsNames: [shop.example], issuerRef: {{name: ca}}}}
"""


def _touch_later(path):
    # A rewrite within the file system's timestamp granularity must still count.
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _parses(monkeypatch) -> list[str]:
    """Records every YAML document source a pure-Python loader is opened on."""
    seen: list[str] = []
    opened = yaml.reader.Reader.__init__

    def counting(self, stream):
        seen.append(str(stream)[:60])
        opened(self, stream)
    monkeypatch.setattr(yaml.reader.Reader, "__init__", counting)
    return seen


def test_chart_certificates_are_rendered_again_only_when_a_chart_file_changes(
        tmp_path, monkeypatch):
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    template = chart / "templates" / "cert.yaml"
    template.write_text(CERTIFICATE.format(name="shop-tls"))
    assert [c.name for c in certificates.from_charts(tmp_path)[0]] == ["shop-tls"]

    parses = _parses(monkeypatch)
    assert [c.name for c in certificates.from_charts(tmp_path)[0]] == ["shop-tls"]
    assert parses == []  # warm: neither Chart.yaml nor the render is read again

    template.write_text(CERTIFICATE.format(name="shop-tls-2"))
    _touch_later(template)
    assert [c.name for c in certificates.from_charts(tmp_path)[0]] == ["shop-tls-2"]
    assert parses  # changed: read again

    extra = tmp_path / "extra"
    (extra / "templates").mkdir(parents=True)
    (extra / "Chart.yaml").write_text("apiVersion: v2\nname: extra\nversion: 0.1.0\n")
    (extra / "templates" / "cert.yaml").write_text(CERTIFICATE.format(name="extra-tls"))
    assert [c.name for c in certificates.from_charts(tmp_path)[0]] == ["extra-tls",
                                                                        "shop-tls-2"]


def test_the_rotation_file_is_parsed_again_only_when_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "rotation.yaml"
    path.write_text(textwrap.dedent("""\
        policies: [{pattern: "shop/*", max_age: 24h}]
        secrets: [{service: shop, path: shop/db}]
        """))
    assert secrets_rotation.load(path).secrets[0].policy.label == "24h"
    parses = _parses(monkeypatch)
    assert secrets_rotation.load(str(path)).secrets[0].policy.label == "24h"
    assert parses == []
    path.write_text(path.read_text().replace("24h", "90d"))
    _touch_later(path)
    assert secrets_rotation.load(path).secrets[0].policy.label == "90d"
    assert len(parses) == 1


def test_a_tree_stamp_sees_files_added_changed_and_removed(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.yaml").write_text("x: 1\n")
    first = file_stamps.of_tree(tmp_path)
    assert file_stamps.of_tree(tmp_path) == first
    (tmp_path / "a" / "b" / "x.yaml").write_text("x: 22\n")
    changed = file_stamps.of_tree(tmp_path)
    assert changed != first
    (tmp_path / "a" / "y.yaml").write_text("")
    added = file_stamps.of_tree(tmp_path)
    assert len(added) == 2 and added != changed
    (tmp_path / "a" / "y.yaml").unlink()
    assert file_stamps.of_tree(tmp_path) == changed
    assert file_stamps.of_files([tmp_path / "none.yaml"])[0][1:] == file_stamps.MISSING


def test_a_warm_service_page_parses_no_yaml_and_asks_vault_once(seeded, client, login_as,
                                                                 monkeypatch):
    login_as("admin")
    assert client.get("/catalog/services/order").status_code == 200
    parses = _parses(monkeypatch)
    asked = []
    fleet = secrets_rotation.fleet
    monkeypatch.setattr(secrets_rotation, "fleet",
                        lambda **kw: asked.append(kw) or fleet(**kw))
    for _ in range(2):  # each request asks again: what Vault says is not kept between them
        page = client.get("/catalog/services/order")
        assert page.status_code == 200 and b'id="readiness-score"' in page.data
        assert b'id="secrets-panel"' in page.data
    assert parses == []
    assert asked == [{"service_slug": "order"}] * 2  # the scorecard and the panel share it
