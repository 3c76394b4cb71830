#!/usr/bin/env bash
# Static security analysis of examples/ with Checkov, offline.
#
# Checkov lives in its own virtual environment (.venv-checkov at the repo
# root, created on first use) because its dependency tree is large and
# pins versions that would clash with the project's dev tools.
#
# Every finding must be fixed or skipped next to the resource with
#   #checkov:skip=CKV_AWS_XXX:reason
# so that the reason is reviewed together with the code.
set -euo pipefail

CHECKOV_VERSION="3.3.30"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv=".venv-checkov"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/checkov" ]] \
    || [[ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]]; then
    echo "checkov: installing checkov==$CHECKOV_VERSION into $venv"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "checkov: $python not found; set PYTHON to a Python >= 3.9 interpreter" >&2
        exit 1
    fi
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "checkov==$CHECKOV_VERSION"
fi

# Offline: no policy metadata or suppressions from the Bridgecrew/Prisma
# platform (no API key anyway), no "new version available" check, no
# external module downloads (the examples only use local modules).
export BC_SKIP_MAPPING=TRUE
export CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE
unset BC_API_KEY PRISMA_API_URL

exec "$venv/bin/checkov" \
    --directory examples/ \
    --framework terraform \
    --quiet \
    --compact \
    --skip-download \
    --download-external-modules false \
    "$@"
