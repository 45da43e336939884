"""Blast radius and the SPOF method on the seeded dependency graph."""
import json

import networkx as nx
import plotly.graph_objects as go
import plotly.io as pio

from portal.catalog import graph


def test_blast_radius_of_postgresql_separates_down_from_degraded(seeded):
    g = graph.build(session=seeded)
    impacts = {i.slug: (i.state, i.via) for i in graph.blast_radius(g, "postgresql")}
    assert impacts["order"] == ("down", "postgresql")
    assert impacts["api-gateway"] == ("down", "auth")  # the gateway needs auth's JWT keys
    assert impacts["search"] == ("degraded", "postgresql")  # reindex source only
    assert "elasticsearch" not in impacts and "redis" not in impacts


def test_blast_radius_of_a_leaf_service_is_empty_and_of_rabbitmq_degrades_orders(seeded):
    g = graph.build(session=seeded)
    assert graph.blast_radius(g, "worker") == []
    impacts = {i.slug: i.state for i in graph.blast_radius(g, "rabbitmq")}
    assert impacts["order"] == "degraded" and impacts["worker"] == "down"
    assert impacts["api-gateway"] == "degraded"


def test_single_points_of_failure_follow_the_seed_method(seeded):
    g = graph.build(session=seeded)
    assert graph.critical_services(g) == ["api-gateway", "auth", "order"]
    assert graph.single_points_of_failure(g) == ["api-gateway", "auth", "ingress-nginx",
                                                 "postgresql", "redis", "route53"]


def test_figure_highlights_focus_radius_and_spofs_and_survives_cycles():
    g = nx.DiGraph()
    for n in "abc":
        g.add_node(n, name=n.upper(), kind="service", tier=1, team="t")
    g.add_edge("a", "b", critical=True)
    g.add_edge("b", "c", critical=False)
    g.add_edge("c", "a", critical=True)  # a cycle, as a careless import could create
    fig = graph.figure(g, focus="b", spofs={"a"})
    assert [t.name for t in fig.data][2:] == ["focus", "down if it fails"]
    assert {i.slug: i.state for i in graph.blast_radius(g, "b")} == {"a": "down", "c": "down"}
    assert {i.slug: i.state for i in graph.blast_radius(g, "c")} == {"a": "degraded",
                                                                      "b": "degraded"}
    overview = graph.figure(g, spofs={"a"})
    assert [t.name for t in overview.data][2:] == ["single point of failure", "other"]


def test_the_plain_figure_spec_serialises_as_the_plotly_figure():
    g = nx.DiGraph()
    for n, kind in (("gw", "service"), ("api", "service"), ("db", "datastore"),
                    ("mq", "infrastructure")):
        g.add_node(n, name=n.upper(), kind=kind, tier=1, team="t")
    g.add_edge("gw", "api", critical=True)
    g.add_edge("api", "db", critical=True)
    g.add_edge("api", "mq", critical=False)
    for focus in ("db", "mq", None):
        nodes = graph.neighbourhood(g, focus) if focus else None
        plain = graph.figure_spec(g, focus=focus, spofs={"api"}, nodes=nodes,
                                  impacts=graph.blast_radius(g, focus) if focus else None)
        # What Plotly makes of it, validating every property and adding its default template.
        built = go.Figure({"data": plain["data"], "layout": {
            k: v for k, v in plain["layout"].items() if k != "template"}})
        assert json.loads(pio.to_json(plain, validate=False)) == \
            json.loads(pio.to_json(built, validate=False))
        assert [t["name"] for t in plain["data"]] == [t.name for t in built.data]
