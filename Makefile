.PHONY: run test bench screenshots

run:    ## start the portal with demo data on the embedded default (http://127.0.0.1:5000)
	scripts/run.sh

test:   ## the whole test suite (installs what it needs, starts PostgreSQL/Redis/RabbitMQ if absent)
	scripts/test.sh

bench:  ## every benchmark under tests/bench (not part of CI); figures go to docs/benchmarks.md
	scripts/bench.sh

screenshots:  ## every role's main pages, desktop and phone, light and dark, into docs/screenshots (not CI)
	scripts/ensure-services.sh
	.venv/bin/python scripts/screenshots.py
