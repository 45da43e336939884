"""The connection budget of platform_services/README.md: every service process's pool, as
docker-compose.yml and the Helm values configure it, fits PostgreSQL's max_connections
minus what is reserved for others, and PgBouncer's limits."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from platform_services.common.config import SERVICES, from_env

ROOT = Path(__file__).resolve().parents[3]
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default
ADMIN_RESERVED = 3  # migrations, psql, a backup


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _pgbouncer() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",))
    parser.read_string((ROOT / "infra" / "pgbouncer" / "pgbouncer.ini").read_text())
    return parser["pgbouncer"]


def _service_processes(compose: dict) -> list[tuple[str, str, dict[str, str]]]:
    """(container, service, environment) of every platform service process."""
    found = []
    for name, spec in compose["services"].items():
        command = " ".join(spec.get("command") or [])
        match = re.search(r'wsgi:create\("(\w+)"\)|platform_services background (\w+)',
                          command)
        if match:
            env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
            found.append((name, match.group(1) or match.group(2), env))
    return found


def _max_connections(compose: dict) -> int:
    command = " ".join(compose["services"]["db"].get("command") or [])
    match = re.search(r"max_connections=(\d+)", command)
    return int(match.group(1)) if match else POSTGRES_DEFAULT_MAX_CONNECTIONS


def _portal_reserved(compose: dict) -> int:
    """The portal's web pool cap plus one connection per Celery child and beat."""
    source = (ROOT / "portal" / "db.py").read_text()
    size, overflow = map(int, re.search(r"pool_size=(\d+), max_overflow=(\d+)",
                                        source).groups())
    celery = " ".join(compose["services"]["celery-worker"]["command"])
    return size + overflow + int(re.search(r"--concurrency=(\d+)", celery).group(1)) + 1


def _compose_service_connections(compose: dict) -> int:
    total = 0
    for name, service, env in _service_processes(compose):
        config = from_env(service, env)
        # gunicorn_conf's WEB_CONCURRENCY: worker processes of a web container, each a pool.
        workers = 1 if name.endswith("-background") else int(env.get("WEB_CONCURRENCY", "1"))
        total += workers * (config.db_pool_size + config.db_max_overflow)
    return total


def test_compose_runs_every_service_web_and_background_with_a_pool_setting():
    processes = _service_processes(_compose())
    assert {service for _, service, _ in processes} == set(SERVICES)
    assert all(env["DB_POOL_SIZE"].isdigit() and env["DB_MAX_OVERFLOW"].isdigit()
               for _, _, env in processes)


def test_compose_service_pools_fit_max_connections_minus_reserved():
    compose = _compose()
    budget = (_max_connections(compose) - SUPERUSER_RESERVED - ADMIN_RESERVED
              - _portal_reserved(compose))
    total = _compose_service_connections(compose)
    assert 0 < total <= budget, f"{total} service connections, budget {budget}"


def test_pgbouncer_takes_every_service_pool_and_stays_within_the_budget():
    compose, bouncer = _compose(), _pgbouncer()
    assert bouncer["pool_mode"] == "transaction"
    budget = (_max_connections(compose) - SUPERUSER_RESERVED - ADMIN_RESERVED
              - _portal_reserved(compose))
    assert int(bouncer["max_db_connections"]) <= budget
    assert int(bouncer["default_pool_size"]) <= int(bouncer["max_db_connections"])
    assert _compose_service_connections(compose) <= int(bouncer["max_client_conn"])
    for name, _, env in _service_processes(compose):
        assert "@pgbouncer:6432/" in env["DATABASE_URL"], name


def test_helm_pods_pools_fit_pgbouncer_client_limit():
    """Web pods counted at their HPA's maxReplicas, plus the one background pod each."""
    bouncer = _pgbouncer()
    total = 0
    for service in SERVICES:
        values = yaml.safe_load((ROOT / "infra" / "helm" / service / "values.yaml").read_text())
        web = values["web"]["database"]
        total += values["web"]["autoscaling"]["maxReplicas"] * (web["poolSize"]
                                                                + web["maxOverflow"])
        if values["background"]["enabled"]:
            background = values["background"]["database"]
            total += background["poolSize"] + background["maxOverflow"]
    assert total <= int(bouncer["max_client_conn"])


def test_pool_settings_come_from_the_environment():
    config = from_env("order", {"DATABASE_URL": "postgresql://x@h/db", "DB_POOL_SIZE": "7",
                                "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT": "1.5"})
    assert (config.db_pool_size, config.db_max_overflow, config.db_pool_timeout) == (7, 0, 1.5)
