"""What the service page keeps to be cheap stays exact: the file stamps read once per
request, the page's statement kept per set of alert names, the list's narrow rows."""
import os
import time
from types import SimpleNamespace

from sqlalchemy import select

from portal.catalog import file_stamps, readiness, service_page
from portal.catalog import service as catalog
from portal.catalog.models import CatalogRunbook, Dependency, Service

RULES = """\
groups:
- name: shop
  rules:
  - alert: {alert}
    expr: up == 0
    labels: {{service: shop, severity: page}}
"""


def _touch_later(path):
    # A rewrite within the file system's timestamp granularity must still count.
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _tree(root):
    (root / "shop" / "templates").mkdir(parents=True)
    (root / "shop" / "Chart.yaml").write_text("name: shop\n")
    (root / "shop" / "templates" / "deploy.yaml").write_text("kind: Deployment\n")
    (root / "shop-extra").mkdir()
    (root / "shop-extra" / "Chart.yaml").write_text("name: shop-extra\n")
    (root / "top.yaml").write_text("")


def test_a_tree_inside_one_walked_in_the_request_is_the_same_as_its_own_walk(
        app, tmp_path, monkeypatch):
    _tree(tmp_path)
    alone = file_stamps.of_tree(tmp_path / "shop")  # outside a request: walked each time
    walks = []
    scandir = os.scandir
    monkeypatch.setattr(file_stamps.os, "scandir", lambda p: walks.append(p) or scandir(p))
    with app.test_request_context():
        whole = file_stamps.of_tree(tmp_path)
        walked = len(walks)
        assert file_stamps.of_tree(tmp_path / "shop") == alone
        assert file_stamps.of_tree(tmp_path) == whole
        assert len(walks) == walked  # both answered from the one walk
        assert [p for p, _, _ in whole] == [str(p) for p in sorted(tmp_path.rglob("*"))
                                            if p.is_file()]


def test_the_next_request_sees_a_changed_chart_file(app, tmp_path):
    _tree(tmp_path)
    template = tmp_path / "shop" / "templates" / "deploy.yaml"
    with app.test_request_context():
        before = file_stamps.of_tree(tmp_path / "shop")
        template.write_text("kind: StatefulSet\n")
        _touch_later(template)
    with app.test_request_context():
        file_stamps.of_tree(tmp_path)
        after = file_stamps.of_tree(tmp_path / "shop")
    assert after != before and len(after) == len(before) == 2
    with app.test_request_context():
        (tmp_path / "shop" / "templates" / "service.yaml").write_text("kind: Service\n")
    with app.test_request_context():
        assert len(file_stamps.of_tree(tmp_path / "shop")) == 3


def test_the_next_request_sees_a_changed_alert_rule_file(app, tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES.format(alert="ShopDown"))
    with app.test_request_context():
        assert [r["alert"] for r in readiness.alert_rules(tmp_path)["shop"]] == ["ShopDown"]
    rules.write_text(RULES.format(alert="ShopGone"))
    _touch_later(rules)
    with app.test_request_context():
        assert [r["alert"] for r in readiness.alert_rules(tmp_path)["shop"]] == ["ShopGone"]


def _fresh(root):
    """What a full walk finds: every file under `root` by path, with mtime and size."""
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted(root.rglob("*")) if p.is_file())


def _later(path):
    # Changes a moment apart, as a deploy makes them (a change within the same clock tick
    # as the walk is what the settling delay is for: see the next test).
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 3_000_000_000))


def test_a_kept_walk_is_checked_without_listing_and_sees_every_change(tmp_path, monkeypatch):
    _tree(tmp_path)
    # Pretend the files were written long before: their walk is kept.
    monkeypatch.setattr(file_stamps, "time",
                        SimpleNamespace(time_ns=lambda: time.time_ns() + 5_000_000_000))
    root, shop = tmp_path, tmp_path / "shop"
    assert file_stamps.of_tree(root) == _fresh(root)
    assert str(root) in file_stamps._trees
    expected = _fresh(root)
    listed = []
    scandir = os.scandir
    monkeypatch.setattr(file_stamps.os, "scandir", lambda p: listed.append(p) or scandir(p))
    assert file_stamps.of_tree(root) == expected
    assert listed == []  # unchanged: checked with stat calls only

    changes = [
        lambda: (shop / "templates" / "deploy.yaml").write_text("kind: StatefulSet\n"),
        lambda: _later(shop / "templates" / "deploy.yaml"),  # same size, new time
        lambda: ((shop / "templates" / "new.yaml").write_text(""),
                 _later(shop / "templates")),  # added
        lambda: ((shop / "templates" / "new.yaml").rename(shop / "renamed.yaml"),
                 _later(shop / "templates"), _later(shop)),  # renamed
        lambda: ((shop / "renamed.yaml").unlink(), _later(shop)),  # removed
        lambda: ((root / "deep" / "er").mkdir(parents=True),
                 (root / "deep" / "er" / "x.yaml").write_text("x"), _later(root)),
        lambda: (root / "elsewhere").mkdir(),
        lambda: ((root / "link.yaml").symlink_to(root / "elsewhere" / "target.yaml"),
                 _later(root)),  # a dangling link is no file: the same stamp
        lambda: (root / "elsewhere" / "target.yaml").write_text("x"),  # the link now works
    ]
    for change in changes:
        before = file_stamps.of_tree(root)
        change()
        after = file_stamps.of_tree(root)
        assert after == _fresh(root)
        assert after != before or change is changes[-2] or change is changes[-3]
        assert file_stamps.of_tree(shop) == _fresh(shop)


def test_a_walk_of_files_changed_just_now_is_not_kept(tmp_path, monkeypatch):
    _tree(tmp_path)
    # Written within the timestamps' granularity of the walk: a change in the same clock
    # tick could leave every time as it was, so the next stamp walks again.
    assert file_stamps.of_tree(tmp_path) == _fresh(tmp_path)
    assert str(tmp_path) not in file_stamps._trees
    (tmp_path / "shop" / "templates" / "added.yaml").write_text("")
    expected = _fresh(tmp_path)
    listed = []
    scandir = os.scandir
    monkeypatch.setattr(file_stamps.os, "scandir", lambda p: listed.append(p) or scandir(p))
    assert file_stamps.of_tree(tmp_path) == expected
    assert str(tmp_path) in listed  # walked again
    assert file_stamps.of_tree(tmp_path / "missing") == ()


def _detail(session, slug="order"):
    session.expire_all()
    return service_page.service_detail(session=session, slug=slug)


def test_the_kept_statement_reads_a_changed_dependency_and_runbook(seeded):
    before = _detail(seeded)
    shown = {d.depends_on.slug for d in before.service.dependencies}
    order = before.service
    other = seeded.scalar(select(Service).where(Service.slug.not_in(shown | {"order"}))
                          .order_by(Service.slug).limit(1))
    seeded.add(Dependency(service_id=order.id, depends_on_id=other.id, purpose="new",
                          critical=False))
    seeded.add(CatalogRunbook(slug="order-new", title="Brand new", body="",
                              service_id=order.id, alertnames=[]))
    seeded.flush()
    after = _detail(seeded)
    assert {d.depends_on.slug for d in after.service.dependencies} == shown | {other.slug}
    assert {d.depends_on.name for d in after.service.dependencies} >= {other.name}
    assert after.graph_version != before.graph_version
    assert "order-new" in [r.slug for r in after.runbooks.own]
    assert "order-new" not in [r.slug for r in before.runbooks.own]


def test_the_kept_statement_follows_the_alert_names_of_the_rule_files(seeded, monkeypatch):
    seeded.add(CatalogRunbook(slug="answers-a", title="A", body="", alertnames=["AlertA"]))
    seeded.add(CatalogRunbook(slug="answers-b", title="B", body="", alertnames=["AlertB"]))
    seeded.flush()
    for alert, runbook in (("AlertA", "answers-a"), ("AlertB", "answers-b"),
                           ("AlertA", "answers-a")):
        monkeypatch.setattr(readiness, "alert_rules",
                            lambda alert=alert: {"order": [{"alert": alert}]})
        found = _detail(seeded).runbooks
        assert found.alertnames == (alert,)
        assert found.answers[alert].slug == runbook


def test_the_page_shows_a_changed_dependency(seeded, client, login_as):
    login_as("admin")
    assert client.get("/catalog/services/order").status_code == 200  # warm every cache
    order = seeded.scalar(select(Service).where(Service.slug == "order"))
    target = seeded.scalar(select(Service).where(Service.slug == "vault"))
    assert b'href="/catalog/services/vault"' not in client.get("/catalog/services/order").data
    seeded.add(Dependency(service_id=order.id, depends_on_id=target.id, purpose="secrets",
                          critical=True))
    seeded.commit()
    page = client.get("/catalog/services/order").data.decode()
    assert 'href="/catalog/services/vault"' in page and "(secrets)" in page


def test_the_list_pages_read_what_the_entities_say(seeded):
    everything = catalog.list_services(session=seeded)
    # The kept statement of each shape of filters reads the values of each request.
    for team, kind, tier in ((None, None, None), ("platform", None, None),
                             ("commerce", None, None), (None, "datastore", None),
                             (None, "service", None), (None, None, 1), (None, None, 2),
                             ("platform", "datastore", 1)):
        wanted = catalog.list_services(session=seeded, team=team, kind=kind, tier=tier)
        found = catalog.page_of_services(session=seeded, team=team, kind=kind, tier=tier,
                                         per_page=4)
        assert found.total == len(wanted) and found.page == 1
        assert [(r.slug, r.name, r.kind, r.tier, r.slo_summary, r.team_name)
                for r in found.services] == [(s.slug, s.name, s.kind, s.tier, s.slo_summary,
                                              s.team.name) for s in wanted[:4]]
    last = catalog.page_of_services(session=seeded, page=999, per_page=4)
    assert last.page == last.pages == -(-len(everything) // 4)
    assert [r.slug for r in last.services] == [s.slug for s in everything[(last.page - 1) * 4:]]
    none = catalog.page_of_services(session=seeded, kind="datastore", team="no-such-team")
    assert (none.services, none.total, none.page, none.pages) == ([], 0, 1, 1)
    renamed = seeded.scalar(select(Service).where(Service.slug == everything[0].slug))
    renamed.name = "Renamed entry"
    seeded.flush()
    assert "Renamed entry" in [r.name for r in catalog.page_of_services(session=seeded).services]
