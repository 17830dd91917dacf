# gpu-platform: every target bootstraps its own virtualenv (.venv) from uv.lock on first use.
# A fresh machine needs only python3, pip and make.

PYTHON ?= python3
STACK ?= dev
STACK_FILE ?=
JSON ?=
MANIFESTS ?=
DIR ?= plans
UV_VERSION := 0.13.9

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
RUN := $(VENV)/bin/python
# The exact versions uv.lock resolves for the package alone (provider/constraints.txt).
EXPORT := $(UV) export --frozen --no-dev --no-hashes --no-emit-project --no-annotate --no-header --format requirements-txt --quiet

# The SDKs' bytecode cache roughly halves test time; some machines disable it globally.
unexport PYTHONDONTWRITEBYTECODE
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help venv plan plans policy-venv test lint fmt docs bench upstream clean prometheus-tools

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: STACK=dev|prod  STACK_FILE=path  JSON=plan.json  MANIFESTS=dir  SOURCE=name@tag"

# uv goes into a plain directory (no venv module needed); uv then builds .venv itself.
$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS) uv==$(UV_VERSION)

$(SYNCED): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

venv: $(SYNCED) ## Create .venv from uv.lock (what `pulumi` and the workflows run the program with)

plan: $(SYNCED) ## Offline plan of a stack: resources, cost, findings (no cloud needed)
	$(RUN) -m tools.plan $(if $(STACK_FILE),--stack-file $(STACK_FILE),--stack $(STACK)) \
		$(if $(JSON),--json $(JSON)) \
		$(if $(MANIFESTS),--manifests $(MANIFESTS)) \
		$(if $(STRICT),--strict)

plans: $(SYNCED) ## Offline plans of every shipped stack and example, as DIR/<stack>.json
	@mkdir -p $(DIR)
	@for file in Pulumi.*.yaml; do stack=$${file#Pulumi.}; stack=$${stack%.yaml}; \
		$(RUN) -m tools.plan --stack $$stack --quiet --json $(DIR)/$$stack.json || exit 1; done
	@for file in examples/*.yaml; do \
		$(RUN) -m tools.plan --stack-file $$file --quiet --json $(DIR)/$$(basename $$file .yaml).json \
		|| exit 1; done

# The policy pack's own virtualenv, which `pulumi ... --policy-pack policy` runs it with.
policy-venv: policy/venv/.synced ## Create policy/venv from policy/requirements.txt
policy/venv/.synced: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	@touch $@

# Tests run in a worker per core (at most 4): each worker pays the SDK imports and the shipped
# stacks' program runs once, and the rest of the suite splits between them a module at a time
# (GCP tests together; see tests/conftest.py).
test: lint prometheus-tools ## Lint, then run the test suite
	$(RUN) -m pytest -q -n auto --maxprocesses 4

# Prometheus's and Alertmanager's own checkers, which the alert tests run: promtool and amtool,
# from Debian's prometheus and prometheus-alertmanager packages.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
prometheus-tools:
	@command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || { \
		echo "installing promtool and amtool (Debian's prometheus, prometheus-alertmanager)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install \
			-y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; }

# Workflows: GitHub's workflow schema (check-jsonschema's vendored copy), then actionlint with
# shellcheck for their scripts (both from PyPI wheels, offline).
lint: $(SYNCED) ## ruff check and ruff format --check; the GitHub workflows' schema and actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint

fmt: $(SYNCED) ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(SYNCED) ## Time the offline plan of each stack (prints numbers)
	$(RUN) -m tools.bench run

upstream: $(SYNCED) ## Refresh tests/upstream from GitHub (network; SOURCE=name@tag, default all)
	$(RUN) -m tools.upstream refresh $(foreach s,$(SOURCE),--source $(s))

docs: $(SYNCED) ## Regenerate README.md's config reference and plan diff example, the components' generated args, the dashboards' JSON and the provider's constraints
	$(RUN) -m tools.configdoc --write README.md
	$(EXPORT) --output-file provider/constraints.txt
	$(RUN) -m tools.argsgen --write
	$(RUN) -m tools.diffexample --write README.md
	$(RUN) -m tools.dashboards --write dashboards

clean: ## Remove the virtualenvs and caches
	rm -rf $(VENV) $(TOOLS) policy/venv .pytest_cache .ruff_cache .hypothesis
