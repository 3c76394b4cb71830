# Every target bootstraps its own virtual environment: a fresh clone needs
# nothing but python3 (>= 3.11) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test unit lint fmt package e2e tf-check iam-check checkov actionlint bench schema clean aws-smoke

help:
	@echo "make demo      run a deployment end to end on an embedded AWS emulator"
	@echo "make test      unit and integration tests, ruff"
	@echo "make unit      unit tests only (no integration marker): the quick inner loop"
	@echo "make lint      ruff and mypy"
	@echo "make package   build the release zips (amd64 and arm64) and SHA256SUMS into package/"
	@echo "make tf-check  terraform fmt -check and offline validate of examples/"
	@echo "make iam-check applied IAM policies against AWS's Service Authorization Reference"
	@echo "make e2e       real terraform apply against the local emulator"
	@echo "make aws-smoke apply, deploy (ok, failing, stopped) and destroy in YOUR AWS account (AWS_REGION, credentials; costs cents)"
	@echo "make bench     event-driven vs polling vs the botocore waiter"
	@echo "make schema    regenerate the CreateDeployment schema from botocore's model"

install: $(STAMP)

$(STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c .ci/constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m tests.demo

test: $(STAMP)
	$(PY) -m pytest -m "not e2e"
	$(PY) -m ruff check .

unit: $(STAMP)
	$(PY) -m pytest -m "not e2e and not integration"

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy handlers shared tests bench .ci/package.py .ci/generate_schema.py

fmt: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

package: $(STAMP)
	$(PY) .ci/package.py

# Opt-in, against the AWS account of the environment's credentials. CI runs it with
# AWS_SMOKE_ARGS=--emulator (the local e2e emulator), never against AWS.
aws-smoke: $(STAMP) package
	$(PY) -m tests.smoke $(AWS_SMOKE_ARGS)

tf-check:
	bash .ci/terraform-check.sh

# The applied IAM policies against AWS's Service Authorization Reference (offline).
iam-check: $(STAMP)
	bash .ci/iam-check.sh

e2e: $(STAMP) package
	$(PY) -m pytest -m e2e tests/e2e

checkov:
	bash .ci/checkov.sh

actionlint:
	bash .ci/actionlint.sh

bench: $(STAMP)
	$(PY) -m bench

schema: $(STAMP)
	$(PY) .ci/generate_schema.py

clean:
	rm -rf $(VENV) .venv-checkov .venv-actionlint .venv-iamcheck package build .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find examples -name .terraform -type d -prune -exec rm -rf {} +
