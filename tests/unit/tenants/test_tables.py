"""The dashboard's per-day tables built in Python: escaping and empty cells."""
from portal.tenants import tables


def test_cells_are_escaped_and_missing_values_are_dashes():
    html = tables.rows([("2026-11-21", 3, None, 0.5), ("<b>x</b>", "a&b", 0, "7%")])
    assert html == ("<tr><td>2026-11-21</td><td>3</td><td>–</td><td>0.5</td></tr>"
                    "<tr><td>&lt;b&gt;x&lt;/b&gt;</td><td>a&amp;b</td><td>0</td><td>7%</td></tr>")


def test_per_day_tables_line_up_days_with_their_values():
    data = {"days": ["2026-11-20", "2026-11-21"],
            "orders": {"per_status": {"pending": [1, 0], "fulfilled": [4, 5]}},
            "fulfillment": {"p50": [90.0, None], "p95": [600.0, None]},
            "api": {"requests": [10, 0], "client_errors": [1, 0], "server_errors": [2, 0],
                    "error_rate": [20.0, None]}}
    got = tables.per_day(data)
    assert got["orders"] == ("<tr><td>2026-11-20</td><td>1</td><td>4</td></tr>"
                             "<tr><td>2026-11-21</td><td>0</td><td>5</td></tr>")
    assert got["fulfillment"].startswith("<tr><td>2026-11-20</td><td>1.5</td><td>10.0</td>")
    assert "<td>2026-11-21</td><td>–</td><td>–</td>" in got["fulfillment"]
    assert got["api"].startswith("<tr><td>2026-11-20</td><td>10</td><td>1</td><td>2</td>"
                                 "<td>20.0%</td></tr>")
