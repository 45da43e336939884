"""Two of everything against one PostgreSQL, Redis and RabbitMQ, as the Helm charts deploy
them: two portals under gunicorn, two Celery workers, two beats, two order web replicas and
two order background processes. Nothing is done twice, nothing is lost:

- an Alertmanager batch delivered to both portals at once pages once per alert, and the
  paging ticks both workers run (and a beat's) notify each page once;
- of the two beats only the advisory lock's holder sends; killing it hands over;
- a session signed in on one portal works on the other, and a logout on either ends it;
- a dashboard cached by one portal is a hit on the other (Redis);
- an order replica SIGKILLed mid-request loses nothing: the client's retry with the same
  idempotency key, on the other replica, creates the order exactly once; and the two
  relays publish each order event once.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pika
import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from platform_services.common.jwt_auth import audience_of
from platform_services.common.runner import background_command, start, web_command
from platform_services.registry import build
from portal.app import create_app
from portal.demo import meridian
from portal.demo.seed import seed_catalog, seed_users
from portal.extensions import db
from portal.oncall import demo as oncall_demo
from portal.tenants import service as tenants
from tests.conftest import FAST_ARGON2, create_database
from tests.databases import drop_database
from tests.httpserver import QuietHandler
from tests.integration.services import gunicorn, servers, tokens
from tests.servers import free_port, wait_until

pytestmark = pytest.mark.integration
BROKER = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
# A Redis database of its own: the portals' cache keys are not namespaced per test run.
PORTAL_REDIS = os.environ.get("TEST_SCALE_REDIS_URL", "redis://127.0.0.1:6379/11")
HOOK_TOKEN = secrets.token_urlsafe(16)
LOGIN_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SKU = "SKU-SCALE"


class Receiver(QuietHandler):
    """The on-call notification webhook: records every delivery's body."""
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        Receiver.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
        self.send_response(204)
        self.end_headers()


@dataclass
class Server:
    proc: subprocess.Popen
    url: str


@dataclass
class Stack:
    portals: list[str]
    workers: list[subprocess.Popen]
    beats: list[tuple[subprocess.Popen, Path]]
    orders: list[Server]
    inventory: str
    portal_db: str
    credentials: list[tuple]
    queue: str
    tmp: Path


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(argv, env={**os.environ, **env}, cwd=gunicorn.ROOT,
                                stdout=out, stderr=subprocess.STDOUT)


def _stop(*procs: subprocess.Popen) -> None:
    """SIGTERM all at once (each shuts down gracefully in parallel), SIGKILL what is still
    running 10 s later."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _portal_env(portal_db: str, queue: str, hook: str, tmp: Path) -> dict[str, str]:
    return {"DATABASE_URL": portal_db, "SECRET_KEY": "scale-out-shared-secret",
            "CELERY_BROKER_URL": BROKER, "CELERY_DEFAULT_QUEUE": queue,
            "CELERY_RESULT_BACKEND": PORTAL_REDIS, "REDIS_URL": PORTAL_REDIS,
            "ALERTMANAGER_WEBHOOK_TOKEN": HOOK_TOKEN, "ONCALL_NOTIFY_WEBHOOK_URL": hook,
            "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1", "LOG_FORMAT": "text",
            "LOG_LEVEL": "INFO", "INSTANCE_DIR": str(tmp / "instance"),
            "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "4"}


def _seed(portal_db: str) -> list[tuple]:
    """Tenants, catalog, the demo users and the on-call schedules and policies (the rest of
    the demo data is not needed here)."""
    app = create_app({"DATABASE_URL": portal_db, "SECRET_KEY": "seed",
                      "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.session_scope() as session:
        for row in meridian.tenants():
            tenants.upsert(session=session, **row)
        seed_catalog(session=session)
        rows = seed_users(session=session, argon2_params=FAST_ARGON2)
        oncall_demo.seed(session=session)
    app.extensions["portal_db"].engine.dispose()
    return rows


@pytest.fixture(scope="module")
def stack(services_db, run_prefix, platform_auth, broker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    portal_db = create_database("_scale")
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_port}/pages"
    queue = f"scale-{secrets.token_hex(4)}"
    procs: list[subprocess.Popen] = []
    with ExitStack() as cleanup:
        cleanup.callback(drop_database, portal_db)
        cleanup.callback(receiver.shutdown)
        cleanup.callback(lambda: _stop(*procs))
        credentials = _seed(portal_db)
        env = _portal_env(portal_db, queue, hook, tmp)
        inventory = start(build(servers.config_factory(
            services_db, run_prefix, **tokens.service_credentials(platform_auth.url))(
                "inventory", redis_url=None), log=False))
        cleanup.callback(inventory.stop)
        tokens.api.track(inventory)
        order_env = gunicorn.deployed_env(
            services_db, platform_auth.url, run_prefix, LOG_FORMAT="text",
            RABBITMQ_URL=broker, INVENTORY_URL=inventory.url, INVENTORY_TIMEOUT="20",
            IDEMPOTENCY_LEASE_SECONDS="1", RELAY_INTERVAL="0.05")
        celery = [sys.executable, "-m", "celery", "-A", "portal.celery_app"]
        for n in (1, 2):
            # Each process its own /tmp (heartbeat files), as each pod has its emptyDir.
            own = tmp / f"tmp{n}"
            own.mkdir()
            procs.append(_spawn([*celery, "worker", "--concurrency=2", "--loglevel=INFO",
                                 f"--hostname=scale{n}@%h"],
                                {**env, "TMPDIR": str(own)}, tmp / f"worker{n}.log"))
            procs.append(_spawn([*celery, "beat", "--loglevel=INFO",
                                 f"--schedule={own / 'celerybeat-schedule'}"],
                                {**env, "TMPDIR": str(own)}, tmp / f"beat{n}.log"))
            procs.append(_spawn(background_command("order"), order_env,
                                tmp / f"order-background{n}.log"))
        with ThreadPoolExecutor(4) as pool:
            portal_starts = [pool.submit(_serve, _portal_argv, env | {
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"prom{n}")}, tmp / f"portal{n}.log")
                for n in (1, 2)]
            order_starts = [pool.submit(_serve, lambda port: web_command(
                "order", "127.0.0.1", port), order_env, tmp / f"order{n}.log") for n in (1, 2)]
            orders = [f.result() for f in order_starts]
            portals = [f.result() for f in portal_starts]
        workers, beat_procs = procs[0:6:3], procs[1:6:3]
        procs += [server.proc for server in (*orders, *portals)]
        cleanup.callback(_purge, queue)
        beats = [(p, tmp / f"beat{n}.log") for n, p in zip((1, 2), beat_procs, strict=True)]
        for n, worker in zip((1, 2), workers, strict=True):
            wait_until(lambda n=n: " ready." in (tmp / f"worker{n}.log").read_text(), 180,
                       f"celery worker {n}", worker, tmp / f"worker{n}.log")
        yield Stack([server.url for server in portals], workers, beats, orders, inventory.url,
                    portal_db, credentials, queue, tmp)


def _portal_argv(port: int) -> list[str]:
    """The portal as its chart runs it (gunicorn.conf.py)."""
    return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
            f"127.0.0.1:{port}", "portal:create_app()"]


def _serve(argv, env: dict[str, str], log: Path) -> Server:
    """Run `argv(port)` on a free port until its /healthz answers."""
    port = free_port()
    proc = _spawn(argv(port), env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: the suite may share the machine's cores with much else.
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, 180, str(log.name),
                   proc, log)
    except BaseException:
        _stop(proc)
        raise
    return Server(proc, url)


def _purge(queue: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(servers.BROKER_URL))
    conn.channel().queue_delete(queue)
    conn.close()


def _query(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def _batch(tag: str, count: int) -> dict:
    now = datetime.now(UTC)
    alerts = [{"status": "firing", "fingerprint": f"{tag}{n:04d}",
               "labels": {"alertname": f"ScaleOut{tag}{n}", "severity": "critical",
                          "service": "order"},
               "annotations": {"summary": f"ScaleOut{tag} {n} errors"},
               "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
              for n in range(count)]
    return {"version": "4", "status": "firing", "receiver": "portal",
            "groupKey": f"{{}}:{{tag=\"{tag}\"}}", "alerts": alerts}


def test_an_alert_batch_through_both_portals_pages_and_notifies_once(stack):
    tag = secrets.token_hex(3)
    batch = _batch(tag, 5)
    hook = "/oncall/alertmanager/webhook"
    headers = {"Authorization": f"Bearer {HOOK_TOKEN}"}
    # An Alertmanager pair delivers the same group to whichever portal the Service picks,
    # at the same moment, and again on its next repeat.
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda base: requests.post(base + hook, json=batch, headers=headers, timeout=30),
            stack.portals * 2))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    pages = _query(stack.portal_db, "SELECT id FROM oncall_pages WHERE title LIKE :t",
                   t=f"%ScaleOut{tag}%")
    assert len(pages) == 5
    # Both workers run paging ticks at once, as two beats without the lock would send them.
    celery = create_app({"DATABASE_URL": stack.portal_db, "SECRET_KEY": "x",
                         "CELERY_BROKER_URL": BROKER, "CELERY_DEFAULT_QUEUE": stack.queue,
                         "CELERY_RESULT_BACKEND": PORTAL_REDIS}).extensions["celery"]
    results = [celery.send_task("portal.oncall.tasks.paging_tick") for _ in range(6)]
    assert all(r.get(timeout=60) is not None for r in results)
    ids = [p.id for p in pages]
    sent = _query(stack.portal_db, "SELECT page_id, status FROM oncall_notifications "
                  "WHERE page_id = ANY(:ids)", ids=ids)
    assert sent and {status for _, status in sent} == {"sent"}
    delivered = [b for b in Receiver.bodies if f"ScaleOut{tag}" in json.dumps(b)]
    assert len(delivered) == len(sent)  # one delivery per notification row, none twice
    assert len({json.dumps(b, sort_keys=True) for b in delivered}) == len(delivered)


def test_only_one_beat_sends_and_the_other_takes_over_when_it_dies(stack):
    def holder() -> list[int]:
        return [n for n, (_, log) in enumerate(stack.beats)
                if "beat lock taken" in log.read_text()]
    wait_until(lambda: holder(), 60, "a beat to take the lock")
    [first] = holder()
    standby_proc, standby_log = stack.beats[1 - first]
    # The holder sends (the 15 s paging tick at the latest); the standby, running as long,
    # has sent nothing.
    wait_until(lambda: "Sending due task" in stack.beats[first][1].read_text(), 75,
               "the holder to send", *stack.beats[first])
    assert "Sending due task" not in standby_log.read_text()
    for worker in stack.workers:  # beat's ticks are consumed by the workers
        assert worker.poll() is None
    dead = stack.beats[first][0]
    dead.send_signal(signal.SIGKILL)
    dead.wait(10)
    wait_until(lambda: "beat lock taken" in standby_log.read_text(), 30,
               "the standby beat to take over", standby_proc, standby_log)
    # It sends from then on: the minute's SLO collection at the latest.
    wait_until(lambda: "Sending due task" in standby_log.read_text(), 75,
               "the new holder to send", standby_proc, standby_log)
    # Each beat's heartbeat file (its pod's probe) is fresh while it runs.
    assert (stack.tmp / f"tmp{2 - first}" / "celery-beat.alive").exists()
    assert all((stack.tmp / f"tmp{n}" / "celery-worker.alive").exists() for n in (1, 2))


def _login(base: str, email: str, password: str) -> requests.Session:
    web = requests.Session()
    form = web.get(f"{base}/login", timeout=10)
    token = LOGIN_CSRF.search(form.text).group(1)
    done = web.post(f"{base}/login", data={"csrf_token": token, "email": email,
                                           "password": password}, timeout=30,
                    allow_redirects=False)
    assert done.status_code == 303, done.text[:500]
    return web


def _signed_in(web: requests.Session, url: str) -> bool:
    answer = web.get(url, timeout=30, allow_redirects=False)
    return answer.status_code == 200


def test_a_session_from_one_portal_works_on_the_other_until_logged_out_anywhere(stack):
    a, b = stack.portals
    roles, email, password, _ = next(r for r in stack.credentials if "oncall" in r[0])
    web = _login(a, email, password)
    assert _signed_in(web, f"{b}/oncall/")
    copied = requests.Session()
    copied.cookies.update(web.cookies)
    page = web.get(f"{b}/oncall/", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert web.post(f"{b}/logout", data={"csrf_token": token}, timeout=30,
                    allow_redirects=False).status_code in (302, 303)
    # A copy of the cookie taken before the logout is refused by the other portal too.
    assert not _signed_in(copied, f"{a}/oncall/")


def test_a_dashboard_cached_by_one_portal_is_a_hit_on_the_other(stack):
    a, b = stack.portals
    _, email, password, slug = next(r for r in stack.credentials
                                    if r[0] == "tenant_viewer" and r[3] != "-")
    [(tenant_id,)] = _query(stack.portal_db, "SELECT id FROM tenants WHERE slug = :s", s=slug)
    cache = redis.Redis.from_url(PORTAL_REDIS, decode_responses=True)
    pattern = f"portal:tenants:v1:{tenant_id}:*"
    for key in cache.scan_iter(pattern):
        cache.delete(key)
    web_a, web_b = _login(a, email, password), _login(b, email, password)
    assert web_a.get(f"{a}/tenants/{slug}/dashboard", timeout=60).status_code == 200
    filled = {k: cache.pttl(k) for k in cache.scan_iter(pattern)}
    assert filled
    time.sleep(1.1)
    assert web_b.get(f"{b}/tenants/{slug}/dashboard", timeout=60).status_code == 200
    after = {k: cache.pttl(k) for k in cache.scan_iter(pattern)}
    # Portal B stored nothing of its own: every entry is portal A's, a second older.
    assert set(after) == set(filled)
    assert all(after[k] <= filled[k] - 1000 for k in filled)
    cache.close()


@contextmanager
def _stock_locked(services_db: str, tenant_id: int):
    """Hold the tenant's stock rows locked: a reservation waits until the block ends."""
    engine = create_engine(services_db)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1 FROM inventory.stock WHERE tenant_id = :t FOR UPDATE"),
                         {"t": tenant_id})
            yield
    finally:
        engine.dispose()


def _kill_tree(server: Server) -> None:
    """SIGKILL the gunicorn master and its workers: a node that vanished."""
    workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.proc.pid)],
                             capture_output=True, text=True, check=False).stdout.split()
    for pid in [server.proc.pid, *map(int, workers)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.proc.wait(10)


def test_a_replica_killed_mid_request_loses_no_order_and_makes_none_twice(
        stack, services_db, platform_auth, run_prefix, broker, tenant):
    first, second = stack.orders
    token = tokens.credentials(platform_auth.url).token(audience_of("order"))
    auth = {"Authorization": f"Bearer {token}"}
    registered = requests.put(f"{first.url}/v1/tenants/{tenant[1]}", headers=auth, timeout=10,
                              json={"id": tenant[0], "name": tenant[1]})
    assert registered.status_code == 200, registered.text
    servers.register(stack.inventory, tenant)
    servers.stock(stack.inventory, tenant[1], "us-east-1a", {SKU: 100})
    events = _bind_events(broker, run_prefix)
    headers = {**auth, "Idempotency-Key": "scale-kill-1"}
    body = {"lines": [{"sku": SKU, "quantity": 2}], "customer_ref": "scale-kill"}
    path = f"/v1/tenants/{tenant[1]}/orders"
    claim = redis.Redis.from_url(servers.REDIS_URL, decode_responses=True)
    key = f"{run_prefix}idem:order:{tenant[0]}:scale-kill-1"
    with ThreadPoolExecutor(1) as pool:
        with _stock_locked(services_db, tenant[0]):
            doomed = pool.submit(requests.post, first.url + path, json=body,
                                 headers=headers, timeout=30)
            # The request is in the middle of the order path: key claimed, stock awaited.
            wait_until(lambda: (claim.get(key) or "").startswith("pending:"), 20,
                       "the first replica to claim the key")
            _kill_tree(first)
            with pytest.raises(requests.ConnectionError):
                doomed.result(timeout=30)
    claim.close()
    # The client retries with the same key on the replica that is left until it is done.
    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.post(second.url + path, json=body, headers=headers, timeout=30)
        answers.append(answer.status_code)
        if answer.status_code in (200, 201):
            break
        assert answer.status_code in (409, 503), answer.text
        time.sleep(0.3)
    assert answers[-1] in (200, 201), answers
    order = answer.json()
    replay = requests.post(second.url + path, json=body, headers=headers, timeout=30)
    assert replay.json()["id"] == order["id"]
    rows = _query(services_db, "SELECT id::text FROM orders.orders WHERE tenant_id = :t",
                  t=tenant[0])
    assert rows == [(order["id"],)]
    # More orders through the surviving replica: the two relays publish each event once.
    for n in range(6):
        made = requests.post(second.url + path, json=body, timeout=30, headers={
            **headers, "Idempotency-Key": f"scale-more-{n}"})
        assert made.status_code == 201, made.text
    ids = {order["id"]} | {r[0] for r in _query(
        services_db, "SELECT id::text FROM orders.orders WHERE tenant_id = :t", t=tenant[0])}
    assert len(ids) == 7
    got = events(lambda got: len({m for m, _ in got}) >= 7)
    created = [(m, e["order_id"]) for m, e in got if e["event"] == "order.created"]
    assert sorted(o for _, o in created) == sorted(ids)  # every order's event, each once
    assert len({m for m, _ in created}) == len(created) == 7


def _bind_events(broker: str, run_prefix: str):
    """A queue of this test bound to the order events; returns a drain function that
    collects (message id, body) until `enough(collected)` or 30 s pass."""
    conn = pika.BlockingConnection(pika.URLParameters(broker))
    channel = conn.channel()
    exchange = f"{run_prefix}orders.events"
    channel.exchange_declare(exchange, "topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, "order.created")

    def drain(enough) -> list[tuple[str, dict]]:
        got: list[tuple[str, dict]] = []
        settle = None  # once enough arrived, a duplicate would come right behind: wait 1 s
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline and (settle is None or time.monotonic() < settle):
                method, props, payload = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    if settle is None and enough(got):
                        settle = time.monotonic() + 1.0
                    time.sleep(0.05)
                    continue
                got.append((props.message_id, json.loads(payload)))
        finally:
            conn.close()
        return got
    return drain
