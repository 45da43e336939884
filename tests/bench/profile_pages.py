"""CPU and SQL statements per page request, in process: where a page's time goes.

    .venv/bin/python tests/bench/profile_pages.py [--requests 20] [--pages / ...]
        [--profile DIR]

A throwaway database gets Meridian's demo data; the demo admin signs in through the login
form of a Flask test client; each page is requested once to warm the per-version caches,
then `--requests` times. Printed per page: the median Python CPU time of one request
(`time.process_time`, which other work on the machine does not inflate) and the SQL
statements it ran. With `--profile DIR`, a cProfile dump per page is written there
(`python -m pstats DIR/<page>.prof`). Not run by CI: it reads, it does not judge.
"""
from __future__ import annotations

import argparse
import cProfile
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from tests.bench.bench_pages import EMAIL, PAGES, seed  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402


def signed_in_client(app):
    from portal.demo import meridian

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = client.post("/login", data={"email": EMAIL, "csrf_token": token,
                                       "password": meridian.demo_password(EMAIL)})
    assert done.status_code == 303, done.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pages", nargs="*", default=["/healthz", *PAGES])
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    database_url = create_database("_profile_pages")
    try:
        incident = seed(database_url)
        from portal.app import create_app

        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                          "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
        seen: list[str] = []
        engine = app.extensions["portal_db"].engine
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: seen.append(statement))
        client = signed_in_client(app)
        print(f"{'page':34} {'CPU ms':>7} {'statements':>10}")
        for raw in args.pages:
            path = raw.format(incident=incident)
            assert client.get(path).status_code == 200, path
            times = []
            for _ in range(args.requests):
                seen.clear()
                start = time.process_time()
                client.get(path)
                times.append((time.process_time() - start) * 1000)
            print(f"{path:34} {statistics.median(times):7.1f} {len(seen):10d}", flush=True)
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "home"
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.requests):
                    client.get(path)
                profile.disable()
                profile.dump_stats(args.profile / f"{name}.prof")
        engine.dispose()
    finally:
        drop_database(database_url)


if __name__ == "__main__":
    main()
