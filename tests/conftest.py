"""Fixtures: a clean environment, moto, a CodeDeploy app and group, the status table,
frozen time, and a trigger wired to the simulated CodeDeploy."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from freezegun import freeze_time
from hypothesis import settings
from moto import mock_aws

from handlers import recorder, trigger
from shared.adapters import clients as aws
from shared.observability import metrics
from tests.support.aws_calls import OperationRecorder
from tests.support.harness import APP, GROUP, REGION, TABLE, Harness
from tests.support.provision import create_blue_green_group, create_status_table
from tests.support.simulator import SimulatedCodeDeploy

# CI must be reproducible: the same commit explores the same examples. Locally, hypothesis
# keeps drawing new ones (and remembers failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

SETTINGS_VARIABLES = (
    "STATUS_TABLE_NAME",
    "POLL_INTERVAL_SECONDS",
    "STATUS_READ_INTERVAL_SECONDS",
    "STATUS_READ_MIN_INTERVAL_SECONDS",
    "STATUS_READ_MAX_INTERVAL_SECONDS",
    "FALLBACK_POLL_INTERVAL_SECONDS",
    "FALLBACK_POLL_MAX_INTERVAL_SECONDS",
    "DEADLINE_MARGIN_SECONDS",
    "STATUS_TTL_DAYS",
    "IDEMPOTENCY_TTL_SECONDS",
    "TERRAFORM_KEY",
    "RECORDER_ALLOWED_EVENT_ORIGINS",
    "INCLUDE_LOG_TAILS",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
)


# --- the AWS operations the code calls (shared/permissions.py is the list) -----------------------

AWS_OPERATIONS = OperationRecorder()
OPERATIONS_CHECK = "test_permissions.py::test_the_suite_calls_exactly_the_listed_operations"
"""Runs last, and only when the run covers the whole unit suite (see below)."""
_deselected: list[pytest.Item] = []


def pytest_configure(config: pytest.Config) -> None:
    AWS_OPERATIONS.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    AWS_OPERATIONS.uninstall()


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The operations check judges the whole unit suite: it runs last, or not at all.

    "Each listed operation was called by some test" means nothing for a part of the suite
    (one file, ``-k``, ``--lf``), so there the check is deselected, and says so.
    """
    check = next((i for i in items if i.nodeid.endswith(OPERATIONS_CHECK)), None)
    if check is None:
        return
    items.remove(check)
    tests_dir = Path(__file__).resolve().parent
    collected = {Path(str(i.path)) for i in [*items, *_deselected]}
    whole_suite = set(tests_dir.glob("test_*.py")) <= collected | {Path(str(check.path))} and all(
        i.get_closest_marker("e2e") is not None for i in _deselected
    )
    if whole_suite:
        items.append(check)
    else:
        config.hook.pytest_deselected(items=[check])


@pytest.fixture(scope="session")
def aws_operations() -> OperationRecorder:
    return AWS_OPERATIONS


@pytest.fixture(autouse=True)
def _name_the_test_calling_aws(request: pytest.FixtureRequest) -> Iterator[None]:
    AWS_OPERATIONS.current_test = request.node.nodeid
    yield
    AWS_OPERATIONS.current_test = "(between tests)"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CodeDeployTriggerTests")
    aws.reset_clients()
    trigger.service.cache_clear()
    recorder.service.cache_clear()
    # Service-level tests add metrics without the handler's flush: start clean.
    metrics.clear_metrics()
    yield
    aws.reset_clients()


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def codedeploy(moto: None) -> Any:
    client = boto3.client("codedeploy", region_name=REGION)
    create_blue_green_group(client, APP, GROUP)
    return client


@pytest.fixture
def dynamodb(moto: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def status_table(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    create_status_table(dynamodb, TABLE)
    monkeypatch.setenv("STATUS_TABLE_NAME", TABLE)
    return TABLE


@pytest.fixture
def frozen() -> Iterator[Any]:
    with freeze_time("2026-05-09T10:00:00Z") as frozen_time:
        yield frozen_time


@pytest.fixture
def make_harness(frozen: Any, codedeploy: Any) -> Callable[..., Harness]:
    def build(**simulator_options: Any) -> Harness:
        simulator = SimulatedCodeDeploy(clock=lambda: time.monotonic(), **simulator_options)
        return Harness(frozen, simulator, codedeploy)

    return build


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON log lines written during the test (Powertools holds its own stream)."""
    import io

    from shared.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
