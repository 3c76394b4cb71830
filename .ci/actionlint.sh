#!/usr/bin/env bash
# Lints .github/workflows/ with actionlint, offline.
#
# Like checkov, actionlint lives in its own virtual environment (.venv-actionlint at the repo
# root, created on first use and recreated when .ci/actionlint-requirements.txt changes): it is
# a CI tool, not a dependency of the project. The requirements file says which package and why.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

requirements=".ci/actionlint-requirements.txt"
venv=".venv-actionlint"
stamp="$venv/.requirements"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/actionlint" ]] || ! cmp -s "$requirements" "$stamp"; then
    echo "actionlint: installing $requirements into $venv"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "actionlint: $python not found; set PYTHON to a Python >= 3.9 interpreter" >&2
        exit 1
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --only-binary=:all: --require-hashes -r "$requirements"
    cp "$requirements" "$stamp"
fi

# ShellCheck checks the `run:` scripts when it is there; say so when it is not, rather than
# letting actionlint skip it silently.
shellcheck_option=(-shellcheck=)
if [[ -x "$venv/bin/shellcheck" ]]; then
    shellcheck_option=(-shellcheck="$venv/bin/shellcheck")
else
    echo "actionlint: no ShellCheck wheel for $(uname -m): run: scripts are not shellchecked"
fi

echo "actionlint: $("$venv/bin/actionlint" --version | head -n1)"
# -pyflakes=: no Python `run:` scripts here, and no pyflakes in the venv.
exec "$venv/bin/actionlint" -no-color "${shellcheck_option[@]}" -pyflakes= "$@"
