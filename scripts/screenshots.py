"""Screenshot gallery: every main page of each demo role, on a desktop and on a phone.

    .venv/bin/python scripts/screenshots.py [--roles oncall manager] [--no-dark]
        [--no-phone-dark] [--browsers 2] [--out docs/screenshots]

Not part of the test suite. The portal starts as the browser tests start it: a throwaway
PostgreSQL database seeded with Meridian's demo data, the app served by werkzeug in a thread
on a free loopback port, Debian's Chromium driven by Playwright. Each demo role signs in
through the login form and every main page it may open is shot full page at 1440×900 and
at 390 px wide (Playwright's "iPhone 13" descriptor, at scale 1 to keep files small), in the
light colour scheme and the dark one, into `<out>/<role>/<page>-<width>[-dark].png`, with an
index in `<out>/README.md`. PNGs are palette-quantized (Pillow) to stay under 250 KB; the
whole gallery is about 20 MB and takes 3-4 minutes on 2 busy cores (two Chromiums side by
side, compression in a third process).

The pages change while this script lives, so it leans on nothing a page shows: list pages
come from endpoint names (`url_for`), a detail page is the first link on an earlier page
that the app's own URL map resolves to the detail endpoint, and a page a role may not open
(403/404, or a redirect to the sign-in) is left out of that role's gallery. A page that
answers 5xx is reported and the script exits 1, after shooting everything else.
"""
from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import queue
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import url_for  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.routing import RequestRedirect  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.demo import meridian  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.e2e.conftest import CHROMIUM, DEMO_EMAILS  # noqa: E402

ROLES = ("admin", "manager", "oncall", "developer", "tenant_viewer")
DESKTOP = {"width": 1440, "height": 900}
PHONE_DEVICE = "iPhone 13"
MAX_HEIGHT = 8000  # CSS px: a very long list is cut here rather than making a huge file
MAX_BYTES = 250_000
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic", "--no-first-run"]


@dataclass(frozen=True)
class Url:
    """A page named by its endpoint."""
    endpoint: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LinkFrom:
    """The first link to `endpoint` on one of the earlier pages `sources` (in that order),
    preferring an href that contains `prefer`."""
    sources: tuple[str, ...]
    endpoint: str
    prefer: str = ""


# (file name, where it is, roles it is shot for — None: every role that may open it).
PAGES: tuple[tuple[str, Url | LinkFrom, tuple[str, ...] | None], ...] = (
    ("home", Url("home.index"), None),
    ("catalog", Url("catalog.index"), None),
    ("service", LinkFrom(("catalog", "home"), "catalog.service_detail", "/order"), None),
    ("slos", Url("slo.index"), None),
    ("slo", LinkFrom(("slos", "service"), "slo.detail"), None),
    ("oncall", Url("oncall.index"), None),
    ("schedule", LinkFrom(("oncall", "home"), "oncall.schedules.show"), None),
    ("page", LinkFrom(("home", "oncall"), "oncall.page_detail"), None),
    ("incidents", Url("incidents.index"), None),
    ("incident", LinkFrom(("incidents", "home"), "incidents.show"), None),
    ("selfservice", Url("selfservice.index"), None),
    ("selfservice-form", LinkFrom(("selfservice",), "selfservice.new_request", "deploy"),
     None),
    ("approvals", Url("selfservice.approvals"), None),
    ("tenants", Url("tenants.index"), None),
    ("tenant", LinkFrom(("tenants", "home"), "tenants.show", "acme-retail"), None),
    ("tenant-dashboard", LinkFrom(("tenant", "home"), "tenants.show_dashboard"), None),
    ("audit", Url("auth.audit_log"), ("admin",)),
    ("status", LinkFrom(("home", "tenant"), "statuspage.show"), ("tenant_viewer",)),
    ("search", Url("search.index", {"q": "order"}), None),
)


class Gallery:
    """Shoots one role's pages in one browser context; remembers each page's links."""

    def __init__(self, *, app, base: str, out: Path, context, width: int, dark: bool,
                 pool: Executor, role: str):
        self.app, self.base, self.out, self.context = app, base, out, context
        self.role = role
        self.width, self.dark, self.pool = width, dark, pool
        self.adapter = app.url_map.bind("127.0.0.1")
        self.links: dict[str, list[str]] = {}
        self.problems: list[str] = []
        self.written: list[Future] = []
        context.add_init_script(QUIET_JS)
        self.page = context.new_page()  # one tab: static files stay in its cache

    def sign_in(self, role: str) -> bool:
        """The login form, by its field names (its labels and layout may change)."""
        page, email = self.page, DEMO_EMAILS[role]
        page.goto(f"{self.base}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", meridian.demo_password(email))
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")
        if urlsplit(page.url).path.rstrip("/").endswith("/login"):
            self.problems.append(f"{role}: sign-in failed (still on {page.url})")
            return False
        return True

    def resolve(self, where: Url | LinkFrom) -> str | None:
        if isinstance(where, Url):
            if where.endpoint not in self.app.view_functions:
                return None
            with self.app.test_request_context():
                return url_for(where.endpoint, **where.args)
        for source in where.sources:
            hrefs = [h for h in self.links.get(source, []) if self._endpoint(h) == where.endpoint]
            if hrefs:
                preferred = [h for h in hrefs if where.prefer and where.prefer in h]
                return (preferred or hrefs)[0]
        return None

    def _endpoint(self, href: str) -> str | None:
        parts = urlsplit(urljoin(self.base + "/", href))
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        try:
            endpoint, _ = self.adapter.match(parts.path, method="GET")
        except (HTTPException, RequestRedirect):
            return None
        return endpoint

    def shoot(self, name: str, path: str) -> None:
        page = self.page
        started = time.monotonic()
        try:
            answer = page.goto(self.base + path, wait_until="load", timeout=60_000)
            status = answer.status if answer else 0
            if status >= 500:
                self.problems.append(f"{name} ({path}) answered {status}")
                return
            landed = urlsplit(page.url).path
            if status >= 400 or landed.rstrip("/").endswith("/login"):
                return  # not this role's page
            loaded = time.monotonic()
            _settle(page)
            settled = time.monotonic()
            self.links[name] = page.eval_on_selector_all(
                "a[href]", "els => els.map(e => e.getAttribute('href'))")
            self._save(page, f"{name}-{self.width}")
            if self.dark:
                page.emulate_media(color_scheme="dark")
                page.wait_for_timeout(150)  # charts redraw on the scheme's change event
                self._save(page, f"{name}-{self.width}-dark")
            print(f"  {self.role:13} {name:18} @{self.width}: load {loaded - started:4.1f} s, settle "
                  f"{settled - loaded:4.1f} s, shoot {time.monotonic() - settled:4.1f} s",
                  flush=True)
        except PlaywrightError as exc:
            self.problems.append(f"{name} ({path}): {str(exc).splitlines()[0]}")
        finally:
            page.emulate_media(color_scheme="light")

    def _save(self, page, stem: str) -> None:
        height = page.evaluate("document.documentElement.scrollHeight")
        width = page.viewport_size["width"]
        png = page.screenshot(full_page=height <= MAX_HEIGHT, animations="disabled",
                              caret="hide", clip=None if height <= MAX_HEIGHT else
                              {"x": 0, "y": 0, "width": width, "height": MAX_HEIGHT})
        # Compressing is the slow part: another process does it while the next page loads.
        self.written.append(self.pool.submit(_write_small_png, png, self.out / f"{stem}.png"))


# Counts htmx requests in flight; "quiet" once none has started or ended for 250 ms after
# the load event (cheaper than Playwright's networkidle, which always waits 500 ms).
QUIET_JS = """(() => {
  let inflight = 0, last = performance.now();
  const bump = (d) => { inflight = Math.max(0, inflight + d); last = performance.now(); };
  document.addEventListener("htmx:beforeRequest", () => bump(1));
  document.addEventListener("htmx:afterRequest", () => bump(-1));
  window.__galleryQuiet = () => document.readyState === "complete" && inflight === 0
    && performance.now() - last > 250;
})();"""


def _settle(page) -> None:
    """Wait for htmx fragments loaded after the page itself, and for web fonts (bounded)."""
    try:
        page.wait_for_function("window.__galleryQuiet && window.__galleryQuiet()",
                               timeout=5_000, polling=100)
    except PlaywrightError:
        pass  # a page that polls all the time is shot as it is
    page.evaluate("document.fonts.ready.then(() => true)")


def _write_small_png(png: bytes, target: Path) -> tuple[Path, int]:
    """Write `png` as a palette PNG; returns where, and its size in bytes."""
    data = _small_png(png)
    target.write_bytes(data)
    return target, len(data)


def _small_png(png: bytes) -> bytes:
    """A palette PNG (screens are mostly flat colours); fewer colours if still large.

    zlib level 6 is ~8x faster than `optimize=True` for ~5% more bytes, so only large files
    pay for the full search (it was the run's bottleneck)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 64, 32):
        small = image.quantize(colors=colours, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
        data = _png_bytes(small, compress_level=6)
        if len(data) > MAX_BYTES // 2:
            data = _png_bytes(small, optimize=True)
        if len(data) <= MAX_BYTES:
            break
    return data


def _png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def serve(app):
    """The app on a free loopback port in a thread, as tests/e2e/conftest.py serves it."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def seed(app) -> None:
    with app.app_context(), db.session_scope() as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)
    try:  # a page waiting for the on-call engineer, as the role-home browser test makes
        from portal.oncall import paging
        with app.app_context(), db.session_scope() as session:
            opened = paging.start_paging(session=session, incident_id=None, severity="sev2",
                                         title="Order queue backing up",
                                         service_slugs=["order"])
            paging.escalate_due(session=session, now=opened.due_at)
    except Exception as exc:  # noqa: BLE001 - the gallery goes on without a live page
        print(f"note: no live page for the on-call home ({exc})", flush=True)


def layouts(playwright, args) -> list[tuple[dict, int, bool]]:
    """(browser context options, width for the file name, also dark) of each layout."""
    phone = {k: v for k, v in playwright.devices[PHONE_DEVICE].items()
             if k != "default_browser_type"}
    return [({"viewport": DESKTOP}, DESKTOP["width"], not args.no_dark),
            ({**phone, "device_scale_factor": 1}, phone["viewport"]["width"],
             not (args.no_phone_dark or args.no_dark))]


def shoot_layout(*, browser, app, base: str, role: str, layout: tuple[dict, int, bool],
                 out: Path, pool: Executor) -> tuple[list[Future], list[str]]:
    """Every page of `role` in one layout, in a fresh browser context."""
    options, width, dark = layout
    context = browser.new_context(color_scheme="light", **options)
    try:
        gallery = Gallery(app=app, base=base, out=out / role, context=context, width=width,
                          dark=dark, pool=pool, role=role)
        if gallery.sign_in(role):
            for name, where, only in PAGES:
                if only is not None and role not in only:
                    continue
                path = gallery.resolve(where)
                if path is not None:
                    gallery.shoot(name, path)
        return gallery.written, [f"{role} @{width}: {p}" for p in gallery.problems]
    finally:
        context.close()


def worker(*, jobs: queue.Queue, app, base: str, out: Path, args, pool: Executor,
           futures: list, problems: list) -> None:
    """A thread with its own Playwright and Chromium (Playwright's sync API is per thread)
    taking (role, layout) jobs until none is left."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            while True:
                try:
                    role, index = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    files, trouble = shoot_layout(
                        browser=browser, app=app, base=base, role=role, out=out, pool=pool,
                        layout=layouts(playwright, args)[index])
                except PlaywrightError as exc:
                    files, trouble = [], [f"{role}: {str(exc).splitlines()[0]}"]
                futures += files
                problems += trouble
        finally:
            browser.close()


def write_index(out: Path, roles: list[str]) -> None:
    lines = ["# Screenshot gallery", "",
             "Generated by `make screenshots` (`scripts/screenshots.py`) from the demo data;",
             "do not edit by hand. `<page>-1440.png`: 1440×900, full page; `-dark`: the dark",
             "colour scheme; `<page>-390.png`: Playwright's iPhone 13 (390 px wide, scale 1).",
             f"Pages longer than {MAX_HEIGHT} px are cut there.", ""]
    variants = ("1440", "1440-dark", "390", "390-dark")
    for role in roles:
        lines += [f"## {role}", "", "| page | " + " | ".join(variants) + " |",
                  "|---" * (len(variants) + 1) + "|"]
        shot = {png.stem for png in (out / role).glob("*.png")}
        for name, _, _ in PAGES:  # in the order a person walks through them
            if any(f"{name}-{v}" in shot for v in variants):
                cells = [f"[{v}]({role}/{name}-{v}.png)" if f"{name}-{v}" in shot else "–"
                         for v in variants]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    (out / "README.md").write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", nargs="*", default=list(ROLES), choices=ROLES)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-dark", action="store_true", help="light colour scheme only")
    parser.add_argument("--no-phone-dark", action="store_true",
                        help="the phone in the light scheme only (a third fewer files)")
    parser.add_argument("--browsers", type=int, default=2,
                        help="Chromiums shooting side by side (default: one per core, 2)")
    args = parser.parse_args()
    started = time.monotonic()
    # Spawned (not forked) before any thread starts; its imports overlap with the seeding.
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(int)
    database_url = create_database("_screenshots")
    app = server = None
    futures, problems = [], []
    instance = tempfile.mkdtemp(prefix="screenshots-")
    try:
        app = create_app({
            "DATABASE_URL": database_url, "SECRET_KEY": "screenshots-" + "s" * 30,
            "INSTANCE_DIR": instance, "CELERY_BROKER_URL": "memory://",
            "CELERY_RESULT_BACKEND": "cache+memory://", "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://", "ARGON2_PARAMS": FAST_ARGON2,
            "LOG_LEVEL": "ERROR",
            # The browser keeps CSS and JS instead of asking again on every page.
            "SEND_FILE_MAX_AGE_DEFAULT": 3600})
        seed(app)
        server, thread = serve(app)
        base = f"http://127.0.0.1:{server.server_port}"
        print(f"portal on {base} ({time.monotonic() - started:.0f} s)", flush=True)
        jobs: queue.Queue = queue.Queue()
        for role in args.roles:
            folder = args.out / role
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):  # a page that is gone leaves no stale picture
                old.unlink()
            for index in range(2):
                jobs.put((role, index))
        threads = [threading.Thread(target=worker, kwargs=dict(
            jobs=jobs, app=app, base=base, out=args.out, args=args, pool=pool,
            futures=futures, problems=problems)) for _ in range(args.browsers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        written = dict(future.result() for future in futures)
        write_index(args.out, [r for r in ROLES if (args.out / r).is_dir()])
    finally:
        pool.shutdown(cancel_futures=True)
        if server is not None:
            server.shutdown()
            thread.join(5)
        if app is not None:
            app.extensions["portal_db"].engine.dispose()
        drop_database(database_url)
        shutil.rmtree(instance, ignore_errors=True)
    largest = max(written, key=written.get, default=None)
    print(f"{len(written)} images, {sum(written.values()) / 1e6:.1f} MB in {args.out}"
          + (f"; largest {largest.relative_to(args.out)} {written[largest] // 1000} KB"
             if largest else "") + f"; {time.monotonic() - started:.0f} s")
    for problem in problems:
        print(f"PROBLEM {problem}")
    return 1 if problems or not written else 0


if __name__ == "__main__":
    sys.exit(main())
