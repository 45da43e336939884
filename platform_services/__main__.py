"""`python -m platform_services serve <service>` | `background <service>` | `migrate` |
`loadgen ...` (web processes run under gunicorn: see platform_services/wsgi.py)."""
from __future__ import annotations

import argparse
import os
import sys

from platform_services import loadgen
from platform_services.common import migrate
from platform_services.common.config import SERVICES, from_env
from platform_services.common.runner import run_background, serve_forever
from platform_services.registry import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_services")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one service until SIGTERM")
    serve.add_argument("service", choices=SERVICES)
    background = sub.add_parser("background", help="run one service's relay, consumers and "
                                                   "flushers (no HTTP) until SIGTERM")
    background.add_argument("service", choices=SERVICES)
    sub.add_parser("migrate", help="upgrade the services' schemas (DATABASE_URL)")
    loadgen.add_arguments(sub.add_parser("loadgen", help="drive traffic at the services"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        config = from_env(args.service)
        serve_forever(build(config), config.host, config.port)
    elif args.command == "background":
        config = from_env(args.service)
        run_background(build(config), heartbeat=config.heartbeat_file)
    elif args.command == "migrate":
        url = os.environ.get("DATABASE_URL")
        if not url:
            parser.error("DATABASE_URL is required")
        migrate.upgrade(url)
    else:
        return loadgen.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
