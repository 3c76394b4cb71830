"""The idempotency key of a request, pinned byte for byte.

An identical request finds the deployment the first one created through this key: a
record written by one version must still be found by the next (records live up to
``IDEMPOTENCY_TTL_SECONDS`` and requests in flight cross an upgrade). The key is the prefix
``codedeploy-trigger:create`` and Powertools' md5 of the caller's JSON object as received,
less the Terraform key (``tf``), control keys included and no default filled in. A refactor
that rebuilds that payload from parsed fields, adds a default or renames the prefix changes
these literals, and this test says so.

The literals were observed on the PutItem of a create, as below, with aws-lambda-powertools
3.x; they equal ``hashlib.md5(json.dumps(payload, sort_keys=True).encode()).hexdigest()``
(``BasePersistenceLayer._generate_hash``: md5 is its default ``hash_function``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers import trigger
from tests.support.call_guard import on_every_call
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import succeed_after

PLAIN_KEY = "codedeploy-trigger:create#9a13bd51b8b9da827324fad0aef839db"
NO_WAIT_KEY = "codedeploy-trigger:create#d703a55adc3a61fe7955bfb57132cbf8"
WITH_CONTROL_KEYS_KEY = "codedeploy-trigger:create#2ba4a4883d89061bb2a6cd0525db0402"
WITH_CONTROL_KEYS = {
    "wait": False,
    "onActiveDeployment": "wait",
    "waitForRollback": False,
    "description": "release 42",
}


def partition_key(dynamodb: Any, table: str) -> str:
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    return str(next(key["AttributeName"] for key in schema if key["KeyType"] == "HASH"))


def test_the_key_of_a_plain_request_is_unchanged(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(30))
    puts: list[dict[str, Any]] = []

    def note(params: dict[str, Any], **_kwargs: Any) -> None:
        puts.append(params)

    harness.clients.dynamodb.meta.events.register("before-parameter-build.dynamodb.PutItem", note)

    harness.invoke(appspec_request())

    key = partition_key(dynamodb, status_table)
    assert [put["Item"][key]["S"] for put in puts] == [PLAIN_KEY]


@pytest.mark.parametrize(
    ("request_overrides", "expected"),
    [
        ({"wait": False}, NO_WAIT_KEY),
        # The Terraform key is left out of the hash: a CRUD apply and a plain invoke match.
        ({"wait": False, "tf": {"action": "create", "prev_input": None}}, NO_WAIT_KEY),
        (WITH_CONTROL_KEYS, WITH_CONTROL_KEYS_KEY),
        (
            {**WITH_CONTROL_KEYS, "tf": {"action": "create", "prev_input": None}},
            WITH_CONTROL_KEYS_KEY,
        ),
    ],
    ids=["no-wait", "no-wait-crud", "control-keys", "control-keys-crud"],
)
def test_the_key_through_the_handler_is_unchanged(
    codedeploy: Any,
    dynamodb: Any,
    status_table: str,
    monkeypatch: pytest.MonkeyPatch,
    request_overrides: dict[str, Any],
    expected: str,
) -> None:
    puts: list[dict[str, Any]] = []

    def note(model: Any, params: dict[str, Any], **_kwargs: Any) -> None:
        if model.name == "PutItem":
            puts.append(json.loads(params["body"]))

    on_every_call(monkeypatch, note)

    trigger.lambda_handler(appspec_request(**request_overrides), FakeLambdaContext())

    key = partition_key(dynamodb, status_table)
    assert [put["Item"][key]["S"] for put in puts] == [expected]
