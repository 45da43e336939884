"""gunicorn settings of the services' web processes (`-c python:platform_services.gunicorn_conf`).

Threaded workers, because a request mostly waits on PostgreSQL, Redis or another service;
the app is built in each worker after the fork (no preload), so no pool, socket or thread
is shared across processes. One worker process per container by default: each process
keeps its own Prometheus registry, so /metrics is only the whole service's when one
process answers it; scale out with replicas. WEB_CONCURRENCY and GUNICORN_THREADS
override the sizes.
"""
from __future__ import annotations

import os

from platform_services import wsgi

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
preload_app = False
# Longer than the slowest legitimate request (an inventory call times out after 5 s).
timeout = 30
graceful_timeout = 25
keepalive = 5
# Recycle a worker only after many requests, at staggered counts: a recycle rebuilds the
# app, its pools, its JWKS and token caches, and every kept connection to PostgreSQL,
# Redis and the other services, which under load stalls the process. At 2,000 a busy
# worker was replaced about every 35 s and paid that each time; nothing here grows with
# the number of requests served (caches are bounded), so the limit is only a backstop,
# and the jitter keeps replicas from restarting together.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = None
errorlog = "-"


def worker_exit(server, worker) -> None:
    """Flush what this worker counted and close its pools before it exits."""
    wsgi.close()
