"""One version, from pyproject.toml, on every log line of both functions.

The release zip's side (the generated shared/_release.py, read by a real python3.13 from the
unzipped release) is tested in tests/test_package.py.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handlers import recorder, trigger
from shared import version
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext

ROOT = Path(__file__).resolve().parent.parent


def pyproject_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        found: str = tomllib.load(handle)["project"]["version"]
    return found


def test_development_version_is_the_pyproject_version() -> None:
    # The editable install's metadata; `make install` reinstalls when pyproject.toml changes.
    assert pyproject_version() == version.VERSION
    assert version.resolve_version() == pyproject_version()


def test_the_release_module_wins_over_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    generated = types.ModuleType(version.RELEASE_MODULE)
    generated.VERSION = "9.8.7"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, version.RELEASE_MODULE, generated)
    assert version.resolve_version() == "9.8.7"


def test_neither_source_gives_an_explicit_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert version.resolve_version() == version.UNKNOWN_VERSION


def test_every_trigger_log_line_carries_the_version(
    codedeploy: Any, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    # A create (deploymentId appended, then removed) and a Terraform delete (clear_state).
    trigger.lambda_handler(appspec_request(wait=False), FakeLambdaContext())
    trigger.lambda_handler({"tf": {"action": "delete", "prev_input": None}}, FakeLambdaContext())

    lines = log_lines()
    assert len(lines) >= 3, lines
    assert {line.get("version") for line in lines} == {pyproject_version()}, lines
    assert any("deploymentId" in line for line in lines)


def test_every_recorder_log_line_carries_the_version(
    status_table: Any, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    recorder.lambda_handler({"source": "aws.s3", "detail-type": "other"}, FakeLambdaContext())

    lines = log_lines()
    assert lines, "the recorder logged nothing for an ignored event"
    assert {line.get("version") for line in lines} == {pyproject_version()}, lines
