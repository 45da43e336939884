"""The import graphs of the portal, the platform services and the provisioning runners have
no cycle, and the portal's view modules are reached only through `portal.domains`.

grimp reads the imports from the source (function-level and `if TYPE_CHECKING:` imports
included); a cycle is a strongly connected component of more than one module.
"""
from __future__ import annotations

import grimp
import networkx as nx
import pytest

from portal import domains

PACKAGES = ("portal", "platform_services", "provisioning")


def _digraph(graph: grimp.ImportGraph) -> nx.DiGraph:
    found = nx.DiGraph()
    found.add_nodes_from(graph.modules)
    for module in graph.modules:
        found.add_edges_from((module, imported)
                             for imported in graph.find_modules_directly_imported_by(module))
    return found


@pytest.fixture(scope="module")
def portal_graph() -> grimp.ImportGraph:
    return grimp.build_graph("portal", cache_dir=None)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_itself_through_others(package):
    graph = grimp.build_graph(package, cache_dir=None)
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(_digraph(graph))
                    if len(c) > 1)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_check_finds_a_cycle():
    # The same check on a graph with a cycle built by hand, so a broken check cannot pass.
    graph = grimp.ImportGraph()
    for importer, imported in (("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")):
        graph.add_import(importer=importer, imported=imported)
    components = [c for c in nx.strongly_connected_components(_digraph(graph)) if len(c) > 1]
    assert components == [{"a.x", "a.y", "a.z"}]


def test_each_routed_domain_has_a_blueprint_and_view_modules(portal_graph):
    for domain in domains.DOMAINS:
        views = domains.view_module_names(f"portal.{domain}")
        assert views, f"portal.{domain} has no *_views module"
        assert f"portal.{domain}.blueprint" in portal_graph.modules
        assert f"portal.{domain}.views" not in portal_graph.modules
        for name in views:
            assert portal_graph.direct_import_exists(
                importer=name, imported=f"portal.{domain}.blueprint"), name


def test_view_modules_are_imported_by_no_module(portal_graph):
    # portal.domains imports them by name at run time, so they never need each other.
    views = [m for m in portal_graph.modules if m.rpartition(".")[2].endswith("_views")]
    importers = {m: sorted(portal_graph.find_modules_that_directly_import(m)) for m in views}
    assert {m: found for m, found in importers.items() if found} == {}
