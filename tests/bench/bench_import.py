"""Grafana OnCall import at the size of a large account: read, dry run, apply, re-apply.

    .venv/bin/python tests/bench/bench_import.py [--rounds 3] [--schedules 50] [--users 200]
        [--teams 20] [--weeks 104] [--per-week 3] [--page-size 50] [--no-heap]

The account is generated here and served by the local fake Grafana OnCall of the importer's
tests (tests/integration/oncall_import/fake_grafana_oncall.py, which checks the token and
pages every list), in pages of 50 as Grafana OnCall's public API pages its shifts: USERS
people in TEAMS teams, SCHEDULES web schedules (each with a weekly primary rotation, a
weeknights layer limited to days and a weekend pair: three rotations), WEEKS weeks of
PER_WEEK overrides per schedule (one person each, four to twelve hours), one escalation
chain per schedule (schedule, wait, two people, repeat) and an integration per two chains
(a regex route and the default route).

Each round, on a throwaway database migrated to head, times in this order:
- fetch (baseline): every page of every list fetched as JSON, nothing else;
- read: `plan_from_api`, the same requests plus the mapping into an ImportPlan;
- preview: the dry run (`apply.preview`, a savepoint rolled back), in its own session;
- apply: `apply_plan` into an empty portal, then commit, in its own session;
- re-apply: `apply_plan` of the same plan again (it must change nothing), then commit;
- executemany (baseline): as many rows as the apply inserted, into a scratch table with
  one plain executemany.
The DB phases run in one outer transaction rolled back at the end of the round, so every
round starts empty (the phases' own commits release savepoints; the last WAL flush is not
timed). For each phase: wall time (median over rounds), SQL statements (a
`before_cursor_execute` listener on the engine), rows inserted (pg_stat_xact_user_tables),
peak RSS above the phase's start (VmHWM reset through /proc/self/clear_refs) and, in one
extra round under tracemalloc (which slows Python, so not timed), the Python heap's peak
above the phase's start. Ratios: read ÷ fetch, apply ÷ executemany of the same rows, so the
figures carry across machines. The load average is printed for each round. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.oncall.importing import plan_codec  # noqa: E402
from portal.oncall.importing.apply import apply_plan, preview  # noqa: E402
from portal.oncall.importing.oncall_client import (  # noqa: E402
    COLLECTIONS,
    OnCallImportError,
    plan_from_api,
)
from portal.oncall.importing.oncall_plan import OnCallObjects, build_plan  # noqa: E402
from portal.security.outbound import get_json  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402
from tests.integration.oncall_import.fake_grafana_oncall import FakeGrafanaOnCall  # noqa: E402

TOKEN = "bench-oncall-token-0123"
LOOPBACK = ("127.0.0.1",)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney")
FIRST_MONDAY = date(2025, 1, 6)
PHASES = ("fetch", "read", "preview", "apply", "re-apply", "executemany")
SHIFT = {"team_id": None, "time_zone": None, "level": 0, "week_start": "MO", "interval": 1,
         "by_day": None, "until": None, "by_month": None, "by_monthday": None,
         "start_rotation_from_user_index": None, "frequency": None}


def account(args) -> dict[str, list[dict]]:
    """A Grafana OnCall account shaped like its API's answers (see the module docstring)."""
    users = [{"id": f"UB{n:04d}", "grafana_id": 1000 + n, "username": f"bench{n}",
              "email": f"bench-{n}@oncall-bench.example", "role": "user", "slack": [],
              "timezone": ZONES[n % len(ZONES)],
              "teams": [f"TB{n % args.teams:03d}"] + ([f"TB{(n + 1) % args.teams:03d}"]
                                                     if n % 5 == 0 else [])}
             for n in range(args.users)]
    teams = [{"id": f"TB{t:03d}", "name": f"Bench team {t}", "email": "", "avatar_url": ""}
             for t in range(args.teams)]
    schedules, shifts = [], []
    for s in range(args.schedules):
        pool = [users[(s * 4 + i) % args.users]["id"] for i in range(8)]
        own = [
            {**SHIFT, "id": f"OB{s:03d}W", "name": "Weekly primary", "type": "rolling_users",
             "start": f"{FIRST_MONDAY}T09:00:00", "duration": 604800, "frequency": "weekly",
             "rolling_users": [[p] for p in pool[:4]]},
            {**SHIFT, "id": f"OB{s:03d}N", "name": "Weeknights", "type": "rolling_users",
             "level": 1, "start": f"{FIRST_MONDAY}T18:00:00", "duration": 50400,
             "frequency": "daily", "by_day": ["MO", "TU", "WE", "TH", "FR"],
             "rolling_users": [[pool[4]], [pool[5]]]},
            {**SHIFT, "id": f"OB{s:03d}E", "name": "Weekend pair", "type": "recurrent_event",
             "level": 2, "start": f"{FIRST_MONDAY + timedelta(days=5)}T10:00:00",
             "duration": 28800, "frequency": "weekly", "by_day": ["SA", "SU"],
             "users": pool[6:8]}]
        for w in range(args.weeks):
            for k in range(args.per_week):
                day = FIRST_MONDAY + timedelta(weeks=w, days=(2 * k + s) % 7)
                own.append({**SHIFT, "id": f"OB{s:03d}O{w:03d}{k}", "name": None,
                            "type": "override", "start": f"{day}T{8 + k:02d}:00:00",
                            "duration": 3600 * (4 + (s + w + k) % 9),
                            "users": [pool[(w + k) % len(pool)]]})
        shifts += own
        schedules.append({"id": f"SB{s:03d}", "name": f"Bench schedule {s}", "type": "web",
                          "team_id": f"TB{s % args.teams:03d}",
                          "time_zone": ZONES[s % len(ZONES)], "on_call_now": [],
                          "shifts": [x["id"] for x in own], "slack": None})
    chains, policies = [], []
    for s in range(args.schedules):
        cid = f"FB{s:03d}"
        chains.append({"id": cid, "name": f"Bench chain {s}", "team_id": None})
        policies += [
            {"id": f"{cid}P0", "escalation_chain_id": cid, "position": 0,
             "type": "notify_on_call_from_schedule", "important": False,
             "notify_on_call_from_schedule": f"SB{s:03d}"},
            {"id": f"{cid}P1", "escalation_chain_id": cid, "position": 1, "type": "wait",
             "duration": 300},
            {"id": f"{cid}P2", "escalation_chain_id": cid, "position": 2,
             "type": "notify_persons", "important": True,
             "persons_to_notify": [users[(s * 4) % args.users]["id"],
                                   users[(s * 4 + 1) % args.users]["id"]]},
            {"id": f"{cid}P3", "escalation_chain_id": cid, "position": 3,
             "type": "repeat_escalation"}]
    integrations, routes = [], []
    for i in range(max(1, args.schedules // 2)):
        default, regex = f"FB{(2 * i) % args.schedules:03d}", \
            f"FB{(2 * i + 1) % args.schedules:03d}"
        integrations.append({"id": f"CB{i:03d}", "name": f"Bench integration {i}",
                             "type": "alertmanager", "team_id": None, "link": "",
                             "default_route": {"id": f"RB{i:03d}D",
                                               "escalation_chain_id": default}})
        routes += [{"id": f"RB{i:03d}R", "integration_id": f"CB{i:03d}",
                    "escalation_chain_id": regex, "routing_type": "regex",
                    "routing_regex": f"service-{i}-(api|worker)", "position": 0,
                    "is_the_last_route": False},
                   {"id": f"RB{i:03d}D", "integration_id": f"CB{i:03d}",
                    "escalation_chain_id": default, "routing_type": "regex",
                    "routing_regex": None, "position": 1, "is_the_last_route": True}]
    return {"users": users, "teams": teams, "schedules": schedules, "on_call_shifts": shifts,
            "escalation_chains": chains, "escalation_policies": policies,
            "integrations": integrations, "routes": routes}


def fetch_only(url: str) -> int:
    """Baseline: every page of every list as JSON, following `next`; returns the pages."""
    pages = 0
    for name in COLLECTIONS.values():
        page: str | None = f"{url}/api/v1/{name}/"
        while page:
            status, body = get_json(page, headers={"Authorization": TOKEN}, timeout=30,
                                    allowlist=LOOPBACK)
            assert status == 200, (page, status)
            pages += 1
            page = body.get("next")
    return pages


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak_rss() -> bool:
    try:  # "5" resets VmHWM to the current RSS (Linux 4.0+)
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Meter:
    """Times one phase, counts its SQL statements and its peak RSS above its start."""

    def __init__(self, engine):
        self.statements = 0
        self.on = False
        self.process_peak_mb = 0.0  # VmHWM before each reset: the run's own peak RSS
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        if self.on:
            self.statements += 1

    def run(self, fn):
        self.process_peak_mb = max(self.process_peak_mb, _status("VmHWM"))
        resettable = _reset_peak_rss()
        rss_before = _status("VmRSS")
        self.statements, self.on = 0, True
        start = time.perf_counter()
        try:
            value = fn()
        finally:
            seconds = time.perf_counter() - start
            self.on = False
        self.process_peak_mb = max(self.process_peak_mb, _status("VmHWM"))
        peak = _status("VmHWM") - rss_before if resettable else float("nan")
        return value, {"seconds": seconds, "statements": self.statements, "rss_mb": peak}


def inserted(conn) -> dict[str, int]:
    """Rows inserted so far in this transaction, per table (pg_stat_xact_user_tables)."""
    rows = conn.execute(text("SELECT relname, n_tup_ins FROM pg_stat_xact_user_tables "
                             "WHERE n_tup_ins > 0 AND relname <> 'bench_rows'"))
    return dict(rows.all())


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def one_round(meter: Meter, engine, fake_url: str, data: dict, admin_id: int,
              heap: bool = False) -> dict:
    """One round of every phase; with `heap`, the Python heap's peak per phase instead."""
    out: dict = {}

    def phase(name: str, fn):
        if heap:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        value, figures = meter.run(fn)
        if heap:
            figures["heap_mb"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        out[name] = figures
        return value

    out["pages"] = phase("fetch", lambda: fetch_only(fake_url))
    def read():
        try:
            return plan_from_api(base_url=fake_url, token=TOKEN, allowlist=LOOPBACK,
                                 timeout=30)
        except OnCallImportError as exc:  # timed and reported; the DB phases still run
            return exc

    plan = phase("read", read)
    if isinstance(plan, OnCallImportError):
        out["read_error"] = str(plan)
        objects = OnCallObjects(**{f: data[n] for f, n in COLLECTIONS.items()})
        started = time.perf_counter()
        plan = build_plan(objects)
        out["build_plan_s"] = time.perf_counter() - started
    out["plan"] = plan
    with engine.connect() as conn:
        outer = conn.begin()

        def session() -> Session:
            return Session(bind=conn, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)

        def dry_run():
            with session() as s:
                return preview(session=s, plan=plan, actor=s.get(User, admin_id))

        def write():
            with session() as s:
                result = apply_plan(session=s, plan=plan, actor=s.get(User, admin_id))
                s.commit()
                return result

        out["preview_result"] = phase("preview", dry_run)
        before = inserted(conn)
        out["apply_result"] = phase("apply", write)
        out["rows"] = delta(inserted(conn), before)
        before = inserted(conn)
        again = phase("re-apply", write)
        out["again_rows"] = delta(inserted(conn), before)
        assert (again.total_created, again.total_updated) == (0, 0), again.as_dict()
        n = sum(out["rows"].values())
        conn.execute(text("CREATE TEMP TABLE bench_rows (k text, n int, a timestamptz, "
                          "b timestamptz, note text)"))
        moment = datetime(2026, 1, 1).astimezone()
        rows = [(f"key-{i}", i, moment, moment + timedelta(hours=4), "Imported")
                for i in range(n)]
        phase("executemany", lambda: conn.exec_driver_sql(
            "INSERT INTO bench_rows VALUES (%s, %s, %s, %s, %s)", rows))
        outer.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--schedules", type=int, default=50)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--per-week", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--no-heap", action="store_true",
                        help="skip the extra round under tracemalloc (it is slow)")
    args = parser.parse_args()
    data = account(args)
    overrides = sum(1 for s in data["on_call_shifts"] if s["type"] == "override")
    print(f"account: {len(data['users'])} users, {len(data['teams'])} teams, "
          f"{len(data['schedules'])} schedules, {len(data['on_call_shifts'])} shifts "
          f"({overrides} overrides over {args.weeks} weeks), {len(data['escalation_chains'])} "
          f"chains of {len(data['escalation_policies'])} steps, "
          f"{len(data['integrations'])} integrations, {len(data['routes'])} routes; "
          f"pages of {args.page_size}", flush=True)
    url = create_database("_bench_import")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 40, "LOG_LEVEL": "WARNING",
                      "CELERY_BROKER_URL": "memory://"})
    engine = app.extensions["portal_db"].engine
    results: list[dict] = []
    try:
        with app.app_context(), FakeGrafanaOnCall(data, token=TOKEN,
                                                  page_size=args.page_size) as fake:
            with Session(engine) as s:
                admin = User(email="bench-admin@oncall-bench.example", name="Bench admin",
                             roles=["admin"], tenant_id=None, password_hash="!bench",
                             timezone="UTC")
                s.add(admin)
                s.commit()
                admin_id = admin.id
            meter = Meter(engine)
            rss_start = _status("VmRSS")
            for n in range(args.rounds):
                load = os.getloadavg()
                print(f"round {n + 1}: load average {load[0]:.2f} {load[1]:.2f} "
                      f"{load[2]:.2f}", flush=True)
                row = one_round(meter, engine, fake.url, data, admin_id)
                row["load"] = load[0]
                results.append(row)
                print("  " + "  ".join(f"{p} {row[p]['seconds']:.2f}s" for p in PHASES),
                      flush=True)
            heap = None
            if not args.no_heap:
                tracemalloc.start()
                heap = one_round(meter, engine, fake.url, data, admin_id, heap=True)
                tracemalloc.stop()
            load_after = os.getloadavg()
            report(results, heap, rss_start, meter.process_peak_mb, load_after,
                   app.config["MAX_CONTENT_LENGTH"])
    finally:
        engine.dispose()
        drop_database(url)


def report(results: list[dict], heap: dict | None, rss_start: float, rss_peak: float, load_after,
           limit: int) -> None:
    first = results[0]
    if "read_error" in first:
        print(f"\nREAD FAILED after {first['read']['seconds']:.1f} s: {first['read_error']} "
              f"The plan was built in process instead, in {first['build_plan_s']:.1f} s.")
    plan, result = first["plan"], first["apply_result"]
    print(f"\nplan: {len(plan.users)} users, {len(plan.teams)} teams, "
          f"{len(plan.schedules)} schedules, "
          f"{sum(len(s.rotations) for s in plan.schedules)} rotations, "
          f"{sum(len(s.overrides) for s in plan.schedules)} overrides, "
          f"{len(plan.chains)} chains, {len(plan.routes)} routes, "
          f"{len(plan.unmapped)} unmapped; {first['pages']} pages read")
    print(f"apply created: {dict(result.created)}")
    print(f"rows inserted by the apply: {sum(first['rows'].values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(first['rows'].items()))}); "
          f"by the re-apply: {sum(first['again_rows'].values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(first['again_rows'].items()))})")
    med = defaultdict(dict)
    for p in PHASES:
        for key in ("seconds", "statements", "rss_mb"):
            med[p][key] = statistics.median(r[p][key] for r in results)
    print(f"\n{'phase':<13} {'median s':>9} {'min s':>7} {'max s':>7} {'statements':>11} "
          f"{'peak RSS +MB':>13} {'heap peak MB':>13}")
    for p in PHASES:
        secs = [r[p]["seconds"] for r in results]
        print(f"{p:<13} {med[p]['seconds']:9.2f} {min(secs):7.2f} {max(secs):7.2f} "
              f"{med[p]['statements']:11.0f} {max(r[p]['rss_mb'] for r in results):13.1f} "
              f"{heap[p]['heap_mb'] if heap else float('nan'):13.1f}")
    ratios = [r["read"]["seconds"] / r["fetch"]["seconds"] for r in results]
    applies = [r["apply"]["seconds"] / r["executemany"]["seconds"] for r in results]
    print(f"\nread ÷ fetch: median {statistics.median(ratios):.2f}× "
          f"(rounds {', '.join(f'{x:.2f}' for x in ratios)})")
    print(f"apply ÷ executemany of the same rows: median {statistics.median(applies):.1f}× "
          f"(rounds {', '.join(f'{x:.1f}' for x in applies)})")
    signed = len(plan_codec.sign(plan, secret="b" * 40))
    print(f"signed plan (the dry run's hidden field): {signed / 1024:.0f} KiB; "
          f"MAX_CONTENT_LENGTH {limit / 1024:.0f} KiB")
    print(f"process RSS before the rounds {rss_start:.0f} MB, peak {rss_peak:.0f} MB"
          + (" (the last round under tracemalloc)" if heap else ""))
    loads = ", ".join(f"{r['load']:.2f}" for r in results)
    print(f"load average per round {loads}; after {load_after[0]:.2f} "
          f"(cpus {os.cpu_count()})")


if __name__ == "__main__":
    main()
