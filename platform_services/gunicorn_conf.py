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
accesslog = None
errorlog = "-"


def worker_exit(server, worker) -> None:
    """Flush what this worker counted and close its pools before it exits."""
    wsgi.close()
