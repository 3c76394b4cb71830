"""The release version of the running code, single-sourced from pyproject.toml.

Both functions put it on every log line, so a log tells which release produced it. Lambda does
not see pyproject.toml and the release zip ships no dist-info of our own package, so the version
comes from one of two places, both derived from ``[project].version``:

- in a release zip, the module ``shared._release`` that .ci/package.py writes into the zip (it is
  never in the source tree);
- in development (the editable install of ``make install``), the installed distribution's
  metadata, read with importlib.metadata; pyproject.toml changes reinstall it (Makefile).

importlib.metadata is imported only on the development path: in Lambda it would cost import time
at every cold start for nothing.
"""

from __future__ import annotations

import importlib

# Written by .ci/package.py (GENERATED_VERSION_MODULE there); holds VERSION = "<version>".
RELEASE_MODULE = "shared._release"
DISTRIBUTION = "codedeploy-trigger"
# Source checkout neither packaged nor installed (e.g. PYTHONPATH=.): say so rather than fail.
UNKNOWN_VERSION = "0+unknown"


def resolve_version() -> str:
    """Return the release version: the zip's generated module, else the installed metadata."""
    try:
        release = importlib.import_module(RELEASE_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name != RELEASE_MODULE:
            raise
    else:
        return str(release.VERSION)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN_VERSION


VERSION = resolve_version()
