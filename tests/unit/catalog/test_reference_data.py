"""The catalog's reference data files: the key dashboards and the SPOF remediations are
read from YAML, checked field by field, and served by the catalog service."""
import pytest

from portal.catalog import reference
from portal.catalog import service as catalog
from portal.catalog.reference import ReferenceFileError, load_dashboards, load_remediations


def test_the_shipped_files_load_and_the_catalog_serves_them():
    links = catalog.dashboard_links()
    assert [d.path for d in links][:2] == ["/d/system-overview", "/d/slo-burn-rate"]
    title, path, description = links[0]  # templates unpack the links
    assert (title, path) == ("System Overview", "/d/system-overview") and description
    remediations = catalog.spof_remediations()
    assert remediations["postgresql"].startswith("Hot standby")
    remediations["postgresql"] = "changed"  # a copy: callers cannot change the table
    assert catalog.spof_remediations()["postgresql"].startswith("Hot standby")


@pytest.mark.parametrize("text, message", [
    ("dashboards: {a: 1}", "`dashboards` list expected"),
    ("dashboards: [x]", "dashboard 1 is not a mapping"),
    ("dashboards:\n- {title: A, path: /d/a, description: d, owner: x}", "unknown field"),
    ("dashboards:\n- {title: A, path: /d/a}", "description must be a non-empty text"),
    ("dashboards:\n- {title: A, path: 'https://evil/d/a', description: d}", "path must be"),
    ("dashboards:\n- {title: A, path: /d/a, description: d}\n"
     "- {title: B, path: /d/a, description: e}", "used twice"),
    ("dashboards: [\n", "Not valid YAML"),
])
def test_a_broken_dashboards_file_is_refused(tmp_path, text, message):
    path = tmp_path / "dashboards.yaml"
    path.write_text(text)
    with pytest.raises(ReferenceFileError, match=message):
        load_dashboards(path)


@pytest.mark.parametrize("text, message", [
    ("remediations: [a]", "`remediations` mapping expected"),
    ("remediations: {Not A Slug: x}", "is not a catalog entry slug"),
    ("remediations: {redis: ''}", "redis must be a non-empty text"),
    ("remediations: {redis: x}\nextra: 1", "one document"),
])
def test_a_broken_remediations_file_is_refused(tmp_path, text, message):
    path = tmp_path / "spof.yaml"
    path.write_text(text)
    with pytest.raises(ReferenceFileError, match=message):
        load_remediations(path)


def test_the_demo_seed_takes_its_dashboard_links_from_the_catalog():
    from portal.demo import meridian
    paths = {d.path for d in reference.DASHBOARDS}
    assert not hasattr(meridian, "DASHBOARDS") and not hasattr(meridian, "SPOF_REMEDIATIONS")
    assert all(d["path"] in paths for facts in meridian.CATALOG_FACTS.values()
               for d in facts.get("dashboards", []))
