# Everything a developer or CI runs goes through these targets, so the README, CI and the
# developers use the same commands. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CDK CLI runs `python3 app.py` (cdk.json): put the project's interpreter first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

APP_STAMP := $(VENV)/.app-requirements
DEV_STAMP := $(VENV)/.dev-requirements
CLI_STAMP := node_modules/.installed

.PHONY: help install install-dev synth synth-all test test-fast lint bench docs snapshots diff diff-deployed deploy clean preflight smoke trino iceberg pipeline flink-env flink-app start-streaming

help: ## List every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'
	@echo "  Variables: ENV=dev|staging|prod (default dev); for diff: BASE=<git ref>, DIFF_ENVS=dev,prod, ALLOW_DESTRUCTIVE=1; for deploy: CONCURRENCY=3"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(APP_STAMP): requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(APP_STAMP)

$(CLI_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(APP_STAMP) $(CLI_STAMP) ## Install what synth and deploy need (.venv + the pinned CDK CLI)

install-dev: $(DEV_STAMP) $(CLI_STAMP) ## Install that plus the test, lint and benchmark tools

synth: install flink-app ## Synthesise ENV through the pinned CDK CLI into cdk.out/
	cdk synth --quiet -c env=$(ENV)

synth-all: install flink-app ## Synthesise dev, staging and prod, one after the other
	for env in dev staging prod; do cdk synth --quiet -c env=$$env --output cdk.out/$$env; done

test: install-dev trino iceberg flink-env flink-app ## Run the whole test suite (every gate: cdk-nag, cfn-lint, retention, units)
	$(PY) -m pytest

# The pinned Trino server (tools/trino/artifacts.py: version and SHA-256/SHA-1 of each file) in the
# git-ignored .cache/trino/, which `make clean` keeps; the saved-query tests run on it.
# The inner loop: the library's construct tests, config validation, the Lambda code and the simulator.
# No whole-app synth, no Spark, no Trino, no CLI; `make test` runs all of these too.
FAST_TESTS := tests/unit/constructs tests/unit/config tests/lambda tests/scripts

test-fast: install-dev ## The fast tier for the inner loop (about a minute): construct, config, Lambda and simulator tests
	$(PY) -m pytest -q $(FAST_TESTS)

trino: | $(VENV)/bin/python ## Fetch the pinned Trino with its Iceberg connector (about 540 MB from Maven Central, once; checksums verified) into .cache/trino/
	$(PY) -m tools.trino.install

# The pinned Iceberg Spark runtime of Glue 5.1 (tools/iceberg/artifacts.py: version, SHA-256/SHA-1)
# in the git-ignored .cache/iceberg/; the local Glue job, its tests and the benchmark run on it.
iceberg: | $(VENV)/bin/python ## Fetch the pinned Iceberg Spark runtime (Glue 5.1's Iceberg 1.10.0, 47 MB from Maven Central, once; checksums verified) into .cache/iceberg/
	$(PY) -m tools.iceberg.install

# The anomaly-detection application (flink_apps/anomaly_detection/, issue 20). PyFlink has its own
# venv (requirements-flink.txt: apache-flink pins pyarrow and numpy below requirements-dev.txt's);
# the mini-cluster tests (tests/flink, marker `flink`) and the benchmark run it as a subprocess.
FLINK_VENV := .venv-flink
FLINK_STAMP := $(FLINK_VENV)/.requirements

$(FLINK_STAMP): requirements-flink.txt
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLINK_VENV)/bin/python -m pip install --quiet -r requirements-flink.txt
	touch $@

flink-env: $(FLINK_STAMP) ## Create .venv-flink with the pinned apache-flink (PyFlink 1.20.5, about 720 MB and 90 s once) for the local Flink tests and benchmark

# The zip is the streaming stack's code asset, so every target that synthesises needs it; it is
# rebuilt only when the application or its packaging changes.
FLINK_ZIP := build/flink/anomaly-detection.zip
FLINK_SOURCES := $(shell find flink_apps tools/flink -name '*.py' -o -name '*.json') tools/maven.py

$(FLINK_ZIP): $(FLINK_SOURCES) | $(VENV)/bin/python
	$(PY) -m tools.flink.build

flink-app: $(FLINK_ZIP) ## Build build/flink/anomaly-detection.zip, the Managed Flink application (pinned jars and wheels verified into .cache/flink/; about 20 s and 88 MB cold; same bytes on every build; every synthesising target builds it first)

# make pipeline [DEVICES=20] [DAYS=1] [SEED=7] [RUNS=3] (tools/pipeline/): no AWS, no credentials.
DEVICES ?= 20
DAYS ?= 1
SEED ?= 7
RUNS ?= 3

pipeline: install-dev trino iceberg ## The data path on this machine: simulated fleet -> real transform in an emulated Firehose -> Glue job in RUNS runs -> saved queries on Trino; report in build/pipeline/ (DEVICES, DAYS, SEED, RUNS)
	$(PY) -m tools.pipeline --devices $(DEVICES) --days $(DAYS) --seed $(SEED) --runs $(RUNS)

lint: install-dev flink-app ## cfn-lint the templates of ENV (the test suite lints every environment)
	cdk synth --quiet -c env=$(ENV) --output cdk.out/$(ENV)
	cfn-lint --config-file .cfnlintrc.yaml -- cdk.out/$(ENV)/*.template.json

bench: install-dev iceberg flink-env ## Synth time, transform throughput, the Glue job on 30 days of telemetry, the Iceberg table over 30 scheduled runs, the anomaly-detection Flink job; writes benchmarks/results/
	$(PY) -m benchmarks.synth_time
	$(PY) -m benchmarks.transform_throughput
	$(PY) -m benchmarks.curation_job
	$(PY) -m benchmarks.iceberg_runs
	$(PY) -m benchmarks.flink_anomaly_detection

docs: install flink-app ## Regenerate the README's generated sections (Lake Formation grants, architecture diagram) from the code
	$(PY) -m tools.generate_docs

snapshots: install-dev flink-app ## Rewrite the template snapshots after an intended template change (commit them with it)
	$(PY) -m pytest tests/unit/stacks/test_template_snapshots.py --snapshot-update -q

# make diff [BASE=<git ref>] [ALLOW_DESTRUCTIVE=1] [DIFF_ENVS=dev,prod]: tools/template_diff.py.
# BASE empty: origin/main, or HEAD~1 where there is no origin/main. No AWS credentials needed.
BASE ?=
ALLOW_DESTRUCTIVE ?=
DIFF_ENVS ?=

diff: install flink-app ## Template diff of every environment, BASE (default origin/main) vs the working tree, into cdk.out/diff/; fails on an unacknowledged destructive change (ALLOW_DESTRUCTIVE=1 to go ahead)
	$(PY) tools/template_diff.py $(if $(BASE),--base $(BASE)) $(if $(DIFF_ENVS),--env $(DIFF_ENVS)) $(if $(filter 1 true yes,$(ALLOW_DESTRUCTIVE)),--allow-destructive)

diff-deployed: install ## cdk diff of ENV against the deployed stacks (needs AWS credentials)
	cdk diff -c env=$(ENV)

# boto3 for the tools that talk to AWS (preflight, smoke, start-streaming), pinned in scripts/requirements.txt.
AWS_TOOLS_STAMP := $(VENV)/.aws-tools-requirements

# The three slow stacks (warehouse, EMR, search) depend on none of each other: deploy them side by side.
CONCURRENCY ?= 3

deploy: install flink-app $(AWS_TOOLS_STAMP) ## cdk deploy --all of ENV, CONCURRENCY stacks at a time (default 3; needs AWS credentials; deploys the account baseline too), then starts the anomaly detector
	cdk deploy --all --concurrency $(CONCURRENCY) -c env=$(ENV)
	$(PY) -m tools.streaming --env $(ENV)

start-streaming: install $(AWS_TOOLS_STAMP) ## Start ENV's anomaly-detection application if it is READY (CloudFormation creates it stopped; make deploy runs this; needs AWS credentials)
	$(PY) -m tools.streaming --env $(ENV)

# make preflight / make smoke (tools/preflight, tools/smoke): read-only checks of ENV's account and
# region before a deploy, and a smoke test of the data path after it. Both need AWS credentials and
# boto3, pinned in scripts/requirements.txt and installed on top of `install`.
# PREFLIGHT_ARGS / SMOKE_ARGS pass options through, e.g. SMOKE_ARGS="--target kinesis --profile dev".
PREFLIGHT_ARGS ?=
SMOKE_ARGS ?=

$(AWS_TOOLS_STAMP): scripts/requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r scripts/requirements.txt
	touch $@

preflight: install flink-app $(AWS_TOOLS_STAMP) ## Read-only AWS checks of ENV's account and region before a deploy: bootstrap, offered versions and types, roles, quotas (needs AWS credentials)
	$(PY) -m tools.preflight --env $(ENV) $(PREFLIGHT_ARGS)

smoke: install $(AWS_TOOLS_STAMP) ## After a deploy: simulated readings through raw zone, search, Glue, Athena and Spectrum; a table of stages (needs AWS credentials)
	$(PY) -m tools.smoke --env $(ENV) $(SMOKE_ARGS)

clean: ## Remove cdk.out, caches and build output (keeps .venv and node_modules)
	rm -rf cdk.out build dist *.egg-info .pytest_cache benchmarks/results
	find . -name __pycache__ -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
