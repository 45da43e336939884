"""Self-service benchmark on RabbitMQ with a real Celery worker process (prefork, 4 children).

Run: .venv/bin/python tests/bench/bench_selfservice.py   (PostgreSQL and RabbitMQ on loopback)

1. Click-to-running: request committed -> the worker marks the job running (its
   `started_at`, same clock), p50/p95 over ROUNDS sequential requests, each sent once the
   previous plan finished (an idle worker; under load see 3). Baseline in the same
   run: one message published to and consumed from RabbitMQ by kombu (a broker hop).
2. Log-line-to-browser: a client polling the job log endpoint exactly as the page does
   (700 ms idle, 50 ms after new lines, through the real WSGI view) against lines written
   by the worker's LogWriter; latency = arrival - line `at`. Baseline: one poll request.
3. CONCURRENT sandbox environments planned and applied at once: every job must succeed,
   no lock error, and every job's log must have contiguous offsets (no lost lines).
"""
from __future__ import annotations

import re
import secrets
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kombu import Connection  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.auth import service as accounts  # noqa: E402
from portal.catalog import service as catalog  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.selfservice import service  # noqa: E402
from portal.selfservice.execution import LogWriter  # noqa: E402
from portal.selfservice.models import Job, JobLog  # noqa: E402
from tests.conftest import BROKER_URL, FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.integration.selfservice.conftest import Worker  # noqa: E402

ROUNDS = 30
CONCURRENT = 20
LOG_LINES = 60
PASSWORD = "bench password 123"


def pct(samples, q):
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


def broker_hop_ms(rounds: int = 200) -> list[float]:
    out = []
    with Connection(BROKER_URL) as conn:
        queue = conn.SimpleQueue(f"ss-bench-hop-{secrets.token_hex(3)}",
                                 queue_opts={"auto_delete": True})
        for _ in range(rounds):
            start = time.perf_counter()
            queue.put({"t": start})
            queue.get(block=True, timeout=10).ack()
            out.append((time.perf_counter() - start) * 1000)
        queue.close()
    return out


def request(user_id: int, name: str, **extra) -> tuple[str, float]:
    with db.session_scope() as session:
        user = accounts.get(session=session, user_id=user_id)
        job = service.request_job(session=session, template_slug="dev-environment",
                                  raw={"name": name, "team": "platform", "cost_center": "cc-1001",
                                       **extra}, requester=user)
        job_id, clicked = str(job.id), utcnow()
    return job_id, clicked.timestamp()


def wait(job_ids: list[str], done, timeout: float = 600) -> dict[str, Job]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session_scope() as session:
            jobs = {str(j.id): j for j in session.query(Job).filter(
                Job.id.in_([uuid.UUID(i) for i in job_ids]))}
        if all(done(j) for j in jobs.values()):
            return jobs
        time.sleep(0.1)
    raise TimeoutError("jobs did not finish")


def click_to_running(dev: int) -> list[float]:
    out = []
    for i in range(ROUNDS):
        job_id, clicked = request(dev, f"platform-bench-c{i}")
        job = wait([job_id], lambda j: j.started_at is not None)[job_id]
        out.append((job.started_at.timestamp() - clicked) * 1000)
        wait([job_id], lambda j: j.status != "running")  # measure on an idle worker
    return out


def log_to_browser(app, dev: int) -> tuple[list[float], list[float]]:
    job_id, _ = request(dev, "platform-bench-log")
    wait([job_id], lambda j: j.status == "awaiting_approval")
    with db.session_scope() as session:
        session.get(Job, uuid.UUID(job_id)).status = "running"  # keep the page polling
    writer, arrivals, polls = LogWriter(db.engine, job_id), {}, []
    client, stop = app.test_client(), threading.Event()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/login").get_data(as_text=True))[1]
    client.post("/login", data={"email": "bench@meridian.example", "password": PASSWORD,
                                "csrf_token": token})

    def browser():
        after = writer.seq
        while not stop.is_set():
            start = time.perf_counter()
            html = client.get(f"/selfservice/jobs/{job_id}/log?after={after}",
                              headers={"HX-Request": "true"}).get_data(as_text=True)
            polls.append((time.perf_counter() - start) * 1000)
            seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]
            for seq in seqs:
                arrivals.setdefault(seq, time.time())
            after = max(seqs, default=after)
            time.sleep(0.05 if seqs else 0.7)

    thread = threading.Thread(target=browser)
    thread.start()
    first = writer.seq + 1
    for i in range(LOG_LINES):
        writer.write(f"bench line {i}")
        time.sleep(0.1 + (i % 7) * 0.05)
    time.sleep(1.5)
    stop.set()
    thread.join()
    writer.close()
    with db.session_scope() as session:
        written = {r.seq: r.at.timestamp() for r in session.query(JobLog).filter(
            JobLog.job_id == uuid.UUID(job_id), JobLog.seq >= first)}
    missing = set(written) - set(arrivals)
    assert not missing, f"lines never reached the client: {sorted(missing)}"
    return [(arrivals[s] - at) * 1000 for s, at in written.items()], polls


def concurrent_applies(dev: int) -> tuple[float, dict]:
    start = time.perf_counter()
    ids = [request(dev, f"platform-bench-p{i}")[0] for i in range(CONCURRENT)]
    wait(ids, lambda j: j.status in ("awaiting_approval", "failed"))
    with db.session_scope() as session:
        user = accounts.get(session=session, user_id=dev)
        for job_id in ids:
            service.confirm(session=session, job=session.get(Job, uuid.UUID(job_id)), user=user)
    jobs = wait(ids, lambda j: j.finished)
    elapsed = time.perf_counter() - start
    with db.session_scope() as session:
        gaps = 0
        for job_id in ids:
            seqs = [s for (s,) in session.query(JobLog.seq).filter(
                JobLog.job_id == uuid.UUID(job_id)).order_by(JobLog.seq)]
            gaps += seqs != list(range(1, len(seqs) + 1))
    return elapsed, {"succeeded": sum(j.status == "succeeded" for j in jobs.values()),
                     "failed": [j.status_reason for j in jobs.values() if j.status != "succeeded"],
                     "jobs_with_log_gaps": gaps}


def main() -> None:
    url = create_database("_ssbench")
    queue = f"ss-bench-{secrets.token_hex(4)}"
    instance = Path(f"/tmp/ss-bench-{secrets.token_hex(3)}")
    env = {"DATABASE_URL": url, "CELERY_BROKER_URL": BROKER_URL, "SECRET_KEY": "bench",
           "CELERY_RESULT_BACKEND": "cache+memory://", "INSTANCE_DIR": str(instance),
           "SELFSERVICE_QUEUE": queue, "LOG_LEVEL": "WARNING", "REDIS_URL": ""}
    app = create_app({**env, "REDIS_URL": None, "ARGON2_PARAMS": FAST_ARGON2})
    instance.mkdir(parents=True)
    worker = Worker(env, instance / "worker.log", pool=("--pool=prefork", "--concurrency=4"))
    try:
        with app.app_context():
            with db.session_scope() as session:
                catalog.upsert_team(session=session, slug="platform", name="Platform",
                                    chat_channel=None)
                dev = accounts.create(session=session, email="bench@meridian.example",
                                      name="Bench", password=PASSWORD, roles=["developer"],
                                      params=FAST_ARGON2).id
            worker.start()
            hop = broker_hop_ms()
            c2r = click_to_running(dev)
            log_lat, polls = log_to_browser(app, dev)
            elapsed, outcome = concurrent_applies(dev)
        base = pct(hop, 95)
        print(f"{'measure':38} {'p50 ms':>9} {'p95 ms':>9} {'p95 / baseline p95':>19}")
        print(f"{'baseline: RabbitMQ hop (kombu)':38} {statistics.median(hop):9.2f} {base:9.2f} {1:19.1f}")
        print(f"{f'click-to-running (n={ROUNDS})':38} {statistics.median(c2r):9.1f} "
              f"{pct(c2r, 95):9.1f} {pct(c2r, 95) / base:19.1f}")
        pbase = pct(polls, 95)
        print(f"{'baseline: one log poll request':38} {statistics.median(polls):9.2f} {pbase:9.2f} {1:19.1f}")
        print(f"{f'log-line-to-browser (n={len(log_lat)})':38} {statistics.median(log_lat):9.1f} "
              f"{pct(log_lat, 95):9.1f} {pct(log_lat, 95) / pbase:19.1f}")
        print(f"{CONCURRENT} concurrent sandbox plan+apply: {elapsed:.1f} s wall, {outcome}")
    finally:
        worker.stop()
        with Connection(BROKER_URL) as conn:
            conn.default_channel.queue_delete(queue)
        app.extensions["portal_db"].engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
