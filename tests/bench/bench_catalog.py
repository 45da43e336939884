"""Catalog benchmark: full-text search (generated tsvector + GIN) against an ILIKE scan, and
the readiness scorecard of the whole seeded catalog against the plain catalog listing.

Run: .venv/bin/python tests/bench/bench_catalog.py   (not part of CI; figures in
docs/benchmarks.md). Uses a throwaway database on the test PostgreSQL server.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal.catalog import demo, readiness  # noqa: E402
from portal.catalog import service as catalog  # noqa: E402
from portal.demo.seed import seed_catalog  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402

SYNTHETIC = 20_000  # entries beside the seeded 36: a catalog far larger than Meridian's
WORDS = ["orders", "stock", "warehouse", "labels", "invoices", "sessions", "tokens", "reports",
         "exports", "queues", "search", "index", "cache", "locks", "payments", "carriers"]


def timed(fn, repeat: int = 30) -> float:
    """Median wall time of fn() in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def synthesize(session: Session) -> None:
    team = session.execute(text("select id from teams limit 1")).scalar_one()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    session.execute(text(f"""
        insert into services (slug, name, kind, tier, team_id, purpose, slo_summary, failure_modes)
        select 'synthetic-' || i, 'Synthetic ' || i, 'service', 1 + i % 3, :team,
               'Handles ' || ({words})[1 + i % 16] || ' and ' || ({words})[1 + (i / 16) % 16]
               || ' for tenant workloads number ' || i,
               '99.9% availability', jsonb_build_array('Failure of ' || ({words})[1 + i % 7])
        from generate_series(1, {SYNTHETIC}) as i"""), {"team": team})
    session.execute(text("analyze services"))


def main() -> None:
    url = create_database("_bench")
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            seed_catalog(session=session)
            demo.seed(session=session)
            synthesize(session)
            session.commit()
            fts = timed(lambda: catalog.search(session=session, query="warehouse carriers"))
            ilike = timed(lambda: session.execute(text(
                "select slug from services where purpose ilike '%warehouse%' and purpose "
                "ilike '%carriers%' order by name limit 30")).all())
            seeded = [s for s in catalog.list_services(session=session)
                      if not s.slug.startswith("synthetic-")]
            rules = readiness.alert_rules()
            cards = timed(lambda: [readiness.evaluate(session=session, service=s, rules=rules)
                                   for s in seeded], repeat=5)
            listing = timed(lambda: [s.team.name for s in seeded], repeat=5)
        print(f"catalog size: {SYNTHETIC + len(seeded)} entries")
        print(f"search 'warehouse carriers': full-text {fts:.2f} ms, ILIKE scan {ilike:.2f} ms, "
              f"ratio ILIKE/FTS = {ilike / fts:.1f}x")
        print(f"scorecards of {len(seeded)} seeded entries: {cards:.1f} ms "
              f"({cards / len(seeded):.2f} ms each; plain listing {listing:.2f} ms)")
    finally:
        engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
