"""shared/permissions.py against what the code calls, botocore's models and docs/iam.md.

The module's applied policies are checked against the same list by ``make iam-check``
(tests/iam/check.py, with the Service Authorization Reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from handlers import recorder
from shared.adapters.status_store import StatusStore
from shared.permissions import (
    PERMISSIONS,
    Caller,
    Function,
    code_operations,
    for_function,
    granted_with,
    markdown_table,
)
from tests.support.aws_calls import OperationRecorder
from tests.support.lambda_context import FakeLambdaContext

IAM_PAGE = Path(__file__).resolve().parents[1] / "docs" / "iam.md"
TABLE_START, TABLE_END = "<!-- permissions:begin -->\n", "<!-- permissions:end -->"


def test_the_suite_calls_exactly_the_listed_operations(aws_operations: OperationRecorder) -> None:
    """Collected over the whole unit suite (tests/conftest.py runs this last, or not at all)."""
    for function in Function:
        called = aws_operations.operations(function)
        listed = code_operations(function)
        unlisted = {op: test for op, test in called.items() if op not in listed}
        assert not unlisted, (
            f"the {function} code calls operations shared/permissions.py does not list "
            f"(operation: first test): {unlisted}"
        )
        assert listed <= set(called), (
            f"listed for the {function} but called by no test: {sorted(listed - set(called))}"
        )


@pytest.fixture
def recorder_under_test() -> Iterator[OperationRecorder]:
    found = OperationRecorder()
    found.install()
    yield found
    found.uninstall()


def test_only_calls_made_by_the_code_are_recorded(
    recorder_under_test: OperationRecorder, dynamodb: Any, status_table: str
) -> None:
    dynamodb.list_tables()  # the test's own call: setup, not the code's
    StatusStore(status_table, dynamodb).get("d-NOTTHERE")  # the trigger's status read
    recorder.lambda_handler(_state_change_event(), FakeLambdaContext())  # the recorder's write

    assert set(recorder_under_test.invoked) == {
        (Function.TRIGGER, "dynamodb.GetItem"),
        (Function.RECORDER, "dynamodb.UpdateItem"),
    }


def _state_change_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": "123456789012",
        "time": "2026-05-09T10:05:30Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "deploymentId": "d-ABCDEFGHI",
            "application": "app",
            "deploymentGroup": "group",
            "state": "SUCCESS",
        },
    }


def test_every_listed_operation_exists_in_botocore_and_names_its_action() -> None:
    session = botocore.session.get_session()
    for permission in PERMISSIONS:
        if permission.caller is not Caller.CODE:
            assert permission.operation is None, permission
            continue
        assert permission.operation is not None, permission
        service, name = permission.operation.split(".")
        assert name in session.get_service_model(service).operation_names, permission
        # For these services the IAM action is the operation's own name.
        assert permission.action == f"{service}:{name}", permission


def test_permissions_aws_grants_for_an_operation_belong_to_it() -> None:
    for permission in PERMISSIONS:
        if permission.caller is Caller.AWS:
            actions = {p.action for p in for_function(permission.function)}
            assert permission.needed_by in actions, permission
        else:
            assert permission.needed_by is None, permission


def test_each_function_lists_an_action_once() -> None:
    for function in Function:
        actions = [p.action for p in for_function(function)]
        assert len(actions) == len(set(actions)), function


def test_the_iam_page_table_is_the_list() -> None:
    text = IAM_PAGE.read_text(encoding="utf-8")
    found = re.search(re.escape(TABLE_START) + r"(.*?)" + re.escape(TABLE_END), text, re.S)
    assert found, f"docs/iam.md has no {TABLE_START.strip()} ... {TABLE_END} block"
    assert found.group(1) == markdown_table(), (
        "docs/iam.md's permission table differs from shared/permissions.py: run `make docs`"
    )


def test_control_and_the_group_clock_are_granted_in_every_mode() -> None:
    """Continue and stop requests, supersede and the group's clock work with the trigger
    alone (no status table) as well as with every option on: none of their actions is
    optional, and each is the code's own call (so the suite must exercise it)."""
    needed = {
        "codedeploy.ContinueDeployment",
        "codedeploy.StopDeployment",
        # The group's clock: the deployment's own waits, and a custom configuration.
        "codedeploy.GetDeployment",
        "codedeploy.GetDeploymentConfig",
    }
    assert needed <= code_operations(Function.TRIGGER)
    lite = granted_with(Function.TRIGGER, frozenset())
    assert {op.replace(".", ":") for op in needed} <= lite
    # CreateDeployment's own read of the configuration is the same grant, listed once.
    configs = [p for p in for_function(Function.TRIGGER) if p.action.endswith("DeploymentConfig")]
    assert [(p.caller, p.optional) for p in configs] == [(Caller.CODE, None)]
