"""WSGI entry point of the services for gunicorn's factory syntax:

    gunicorn -c python:platform_services.gunicorn_conf 'platform_services.wsgi:create("order")'

Each web process builds its own service (engine pool, Redis client, metrics) after the
fork and runs only the per-process workers; the relay, consumers and once-per-service
flushers run in `python -m platform_services background <service>`.
"""
from __future__ import annotations

from flask import Flask

from platform_services.common.config import from_env
from platform_services.common.runner import Service
from platform_services.registry import build

# The service this process serves, for gunicorn's worker_exit hook to close.
built: list[Service] = []


def create(service: str) -> Flask:
    """Build `service` from the environment and start its per-process workers."""
    running = build(from_env(service))
    running.start_workers(running.web_workers)
    built.append(running)
    return running.app


def close() -> None:
    """Stop the per-process workers (their final flush) and release the pools."""
    while built:
        built.pop().close()
