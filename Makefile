# Quick start: `make dev` runs the whole system natively; `make test` runs every check.
SHELL := /bin/bash
PYTHON_BIN ?= python3.11
VENV := .venv
PYTHON := $(VENV)/bin/python
SERVICES_WITH_DATABASES := auth_service task_service notification_service
REQUIREMENTS := requirements-dev.txt $(foreach s,auth_service task_service notification_service api_gateway,$(s)/requirements.txt)

.PHONY: help install client-tools bench-tools observability dev test test-fast fuzz mutation lint migrate bench backup restore postman clean secrets k8s-secret

help:
	@echo "make dev    run the four services on :8000-:8003, the gateway also on https://localhost:8443 (Ctrl-C stops them)"
	@echo "make test   lint, service tests, end-to-end tests, Postman collection, deployment files"
	@echo "make test-fast  lint, unit tests and deployment files: what needs no server"
	@echo "make fuzz   the API fuzzer of \`make test\` at length: FUZZ_EXAMPLES (default 500) per operation, FUZZ_SEED"
	@echo "make mutation  mutation testing of the core modules before a release (MUTATION_SAMPLE= for every mutant)"
	@echo "make bench  side by side under load (task service, nginx, gateway; bursts and floods);"
	@echo "            the task list at 100,000 tasks; mixed traffic through the gateway"
	@echo "make backup / make restore BACKUP=backups/<timestamp>   the three databases, as SQL"
	@echo "make postman  rebuild Task_Manager_API.postman_collection.json from postman/"
	@echo "make secrets  random passwords and JWT key under secrets/ (kept if present) for docker-compose.prod.yml"
	@echo "make k8s-secret  create the Kubernetes Secret task-manager-secrets from them (kubectl)"
	@echo "make observability  docker compose with Prometheus, Grafana (localhost:3000) and Jaeger, tracing on"

$(VENV)/.installed: $(REQUIREMENTS)
	test -x $(PYTHON) || $(PYTHON_BIN) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Command-line tools the tests and scripts call; installed from Debian's packages when missing and root.
# chromium and chromedriver (packages chromium, chromium-driver): the browser test of the API docs.
# promtool (package prometheus, without its node exporter): the checks of deploy/observability. On a machine whose
# init system lets packages start their daemons, installing it starts a Prometheus server, which is stopped again.
# rabbitmqctl comes with the RabbitMQ server the tests run against, so it is never installed here.
CLIENT_TOOLS := curl pg_dump psql mysqldump mysql chromium chromedriver promtool rabbitmqctl
client-tools:
	@missing=$$(for tool in $(filter-out rabbitmqctl,$(CLIENT_TOOLS)); do command -v $$tool >/dev/null || echo $$tool; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq curl postgresql-client mariadb-client chromium chromium-driver \
			&& apt-get install -y -qq --no-install-recommends prometheus || exit 1; \
			if /etc/init.d/prometheus status >/dev/null 2>&1; then /etc/init.d/prometheus stop; fi; \
		else \
			echo "missing: $$missing (install curl, the PostgreSQL and MariaDB/MySQL clients, chromium, chromium-driver and prometheus)"; exit 1; \
		fi; \
	fi; \
	command -v rabbitmqctl >/dev/null || { echo "missing: rabbitmqctl (it comes with the RabbitMQ server: install and start rabbitmq-server on this machine)"; exit 1; }

# The whole system with the monitoring stack (docs/observability.md), every service sending its traces to Jaeger.
observability:
	OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile observability up -d --build

migrate: $(VENV)/.installed
	@for service in $(SERVICES_WITH_DATABASES); do \
		$(VENV)/bin/alembic -c $$service/alembic.ini upgrade head || exit 1; \
	done

# `make dev REPLICAS=2` runs every service twice (ports +10), each gateway spreading over all replicas.
REPLICAS ?= 1
# Where the auth service publishes revocations, so the other services may cache token checks.
dev: export REDIS_URL ?= redis://127.0.0.1:6379/0
# HTTPS on GATEWAY_HTTPS_PORT (8443) with a development CA's certificate, made on the first run (see
# scripts/dev_certs.py; trust certs/dev-ca.pem). Set both variables to serve your own certificate instead.
DEV_CERTS := certs
dev: export GATEWAY_TLS_CERT_FILE ?= $(DEV_CERTS)/localhost.pem
dev: export GATEWAY_TLS_KEY_FILE ?= $(DEV_CERTS)/localhost-key.pem
dev: install
	$(PYTHON) scripts/provision.py dev
	$(PYTHON) scripts/dev_certs.py $(DEV_CERTS)
	$(MAKE) --no-print-directory migrate
	mkdir -p notification_logs .run
	$(PYTHON) scripts/dev_procfile.py $(REPLICAS) > .run/Procfile
	$(VENV)/bin/honcho start -f .run/Procfile -d .

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install client-tools lint
	$(PYTHON) scripts/provision.py test
	$(PYTHON) -m pytest

# What needs no server: lint, unit tests and the static checks of the deployment files.
test-fast: install lint
	$(PYTHON) -m pytest -m "unit or deploy"

# The fuzzer `make test` runs in about a minute, with many more examples (and a seed of your choice).
FUZZ_EXAMPLES ?= 500
fuzz: install
	$(PYTHON) scripts/provision.py test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTHON) -m pytest tests/e2e/test_fuzz.py

# Mutation testing, before a release (not part of `make test`): mutmut mutates the core modules
# ([tool.mutmut] in pyproject.toml) and runs the tests that call each mutated function in-process.
# One mutant in ten by default (those whose number ends in 0); `MUTATION_SAMPLE=` tries them all.
# Each run starts afresh, so the figures are those of the code and tests as they are now.
MUTATION_SAMPLE ?= *__mutmut_*0
$(VENV)/.mutation-installed: requirements-mutation.txt $(VENV)/.installed
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
	touch $@

mutation: $(VENV)/.mutation-installed
	$(PYTHON) scripts/provision.py test
	rm -rf mutants
	nice -n 10 $(VENV)/bin/mutmut run --max-children 1 $(if $(MUTATION_SAMPLE),"$(MUTATION_SAMPLE)")
	$(PYTHON) scripts/mutation_report.py

# The load benchmark's tools: wrk drives the load, nginx is the reference proxy it is compared to.
BENCH_TOOLS := wrk nginx
bench-tools:
	@missing=$$(for tool in $(BENCH_TOOLS); do command -v $$tool >/dev/null || echo $$tool; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq $$missing; \
		else \
			echo "missing: $$missing (install them from your distribution's packages)"; exit 1; \
		fi; \
	fi

bench: install bench-tools
	$(PYTHON) scripts/provision.py test
	$(PYTHON) -m benchmarks.load
	$(PYTHON) -m benchmarks.task_list_first_page
	$(PYTHON) -m benchmarks.gateway_load

backup: $(VENV)/.installed
	$(PYTHON) scripts/backup.py backup

restore: $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/<timestamp>"; exit 2; }
	$(PYTHON) scripts/backup.py restore "$(BACKUP)"

# The collection is built from postman/ (folders, requests, .js scripts); `make test` checks it is up to date.
postman:
	$(PYTHON_BIN) scripts/build_postman.py

# Random passwords and the JWT key, one file each (docker-compose.prod.yml, Kubernetes); existing files are kept.
SECRETS_DIR ?= secrets
secrets:
	python3 deploy/make_secrets.py $(SECRETS_DIR)

# The Secret deploy/k8s reads, from the same files (create the namespace first: deploy/k8s/README.md).
k8s-secret: secrets
	kubectl -n task-manager create secret generic task-manager-secrets --from-file=$(SECRETS_DIR)/kubernetes/

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache mutants
