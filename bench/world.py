"""The emulated AWS one detector runs against: moto in this process, made fit for 50 threads.

- moto's backends do not lock, and 50 invocations share them here as no two Lambdas share
  DynamoDB's or CodeDeploy's state: :class:`Locks` serialise what the services serialise
  (a Query walking the table's items while a write added one raised "dictionary changed
  size during iteration" in the reading trigger).
- :class:`ApiMeter` counts every API call of the trigger's clients, per deployment.
- :class:`FastReads` answers the two hot reads, GetItem and GetDeployment, from moto's
  objects after botocore validated, serialised and counted the request (~0.2 ms instead of
  moto's 4-6 ms of CPU, which time scaling would multiply into simulated time).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws
from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.models import CodeDeployBackend, codedeploy_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

from bench.names import APPLICATION, REGION, TABLE, group_name
from shared.adapters.clients import CODEDEPLOY_POLICIES, DYNAMODB_POLICIES
from tests.support import moto_codedeploy
from tests.support.provision import create_blue_green_group, create_status_table

DYNAMODB_WRITES = ("put_item", "update_item", "delete_item")
DYNAMODB_SCANS = ("query", "scan")
"""moto reads that walk a table's items (GetItem is answered by FastReads, under the lock)."""
CODEDEPLOY_SHARED_STATE = ("create_deployment", "list_deployments")
# The trigger's clients in Lambda are its most patient ones (shared/adapters/clients.py).
CODEDEPLOY_CONFIG = CODEDEPLOY_POLICIES[0].config()
DYNAMODB_CONFIG = DYNAMODB_POLICIES[0].config()


FAKE_CREDENTIALS = dict.fromkeys(
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "testing"
) | {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@contextlib.contextmanager
def fake_credentials() -> Iterator[None]:
    """Whatever the caller's environment holds, nothing here may reach a real account.

    The environment is restored on exit (the smoke test runs this inside pytest).
    """
    with mock.patch.dict(os.environ, FAKE_CREDENTIALS):
        for name in UNSET:
            os.environ.pop(name, None)
        yield


class ApiMeter:
    """API calls per deployment, by "service:Operation", counted in the calling thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.calls: defaultdict[int, Counter[str]] = defaultdict(Counter)

    def attribute_to(self, index: int) -> None:
        """Calls made from now on by this thread count for deployment ``index``."""
        self._local.index = index

    def watch(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_kwargs: Any) -> None:
        index = getattr(self._local, "index", -1)
        with self._lock:
            self.calls[index][f"{model.service_model.service_name}:{model.name}"] += 1


class FastReads:
    """Answers GetItem and GetDeployment from moto's objects (see the module docstring).

    The answer is what botocore would have parsed from moto's response: the item as
    stored, and the deployment as moto's own (test-patched) ``_deployment_info`` renders
    it, None fields left out and times as aware datetimes.
    """

    def __init__(self, locks: Locks) -> None:
        self._locks = locks

    def install(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._answer)

    def _answer(self, model: Any, params: dict[str, Any], **_kwargs: Any) -> Any:
        reads = {"GetItem": self._get_item, "GetDeployment": self._get_deployment}
        parsed = reads[model.name](json.loads(params["body"])) if model.name in reads else None
        if parsed is None:  # moto's full path answers (with the error botocore would raise)
            return None
        return AWSResponse(params.get("url", ""), 200, {}, None), parsed

    def _get_item(self, body: dict[str, Any]) -> dict[str, Any] | None:
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
        with self._locks.item:
            item = backend.get_item(body["TableName"], body["Key"])
            return item.to_json("Item") if item is not None else {}

    def _get_deployment(self, body: dict[str, Any]) -> dict[str, Any] | None:
        backend = codedeploy_backends[DEFAULT_ACCOUNT_ID][REGION]
        with self._locks.status:
            if body["deploymentId"] not in backend.deployments:
                return None  # e.g. the simulator's rollback id, which names no deployment
            deployment = backend.get_deployment(body["deploymentId"])
            # moto's renderer, as patched by tests.support.moto_codedeploy (error details).
            info = codedeploy_responses._deployment_info(deployment)
        return {"deploymentInfo": _as_parsed(info)}


def _as_parsed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_parsed(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_as_parsed(item) for item in value]
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # moto keeps naive UTC; botocore returns aware
    return value


@dataclass(frozen=True)
class Locks:
    """``item``: writes, our GetItem and Query (DynamoDB applies an item's writes one at a time,
    each with its condition; a read sees whole writes). ``create``: Create/ListDeployments and
    the simulator's advance(), which walk moto's deployments. ``status``: the simulator's status
    change (status, then times) and our GetDeployment. ``commits.at``: when this thread's last
    write was applied (time.monotonic; readers may see it before the call returns)."""

    item: threading.Lock = field(default_factory=threading.Lock)
    create: threading.Lock = field(default_factory=threading.Lock)
    status: threading.Lock = field(default_factory=threading.Lock)
    commits: threading.local = field(default_factory=threading.local)

    def last_commit(self) -> float | None:
        return getattr(self.commits, "at", None)


@contextlib.contextmanager
def serialised_backends() -> Iterator[Locks]:
    """Patch moto (and the simulator's status setter) to take the locks; undone on exit."""
    locks = Locks()
    patches: list[tuple[Any, str, threading.Lock, threading.local | None]] = [
        *((DynamoDBBackend, name, locks.item, locks.commits) for name in DYNAMODB_WRITES),
        *((DynamoDBBackend, name, locks.item, None) for name in DYNAMODB_SCANS),
        *((CodeDeployBackend, name, locks.create, None) for name in CODEDEPLOY_SHARED_STATE),
        (moto_codedeploy, "set_status", locks.status, None),
    ]
    with contextlib.ExitStack() as stack:
        for owner, name, lock, commits in patches:
            locked = _locked(getattr(owner, name), lock, commits)
            stack.enter_context(mock.patch.object(owner, name, locked))
        yield locks


def _locked(
    function: Callable[..., Any], lock: threading.Lock, commits: threading.local | None
) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            try:
                return function(*args, **kwargs)
            finally:
                if commits is not None:
                    commits.at = time.monotonic()

    return locked


class World:
    """moto with the application, one group per deployment and the status table."""

    def __init__(self, n: int, locks: Locks) -> None:
        self.locks = locks
        self.meter = ApiMeter()
        self.codedeploy = boto3.client("codedeploy", region_name=REGION, config=CODEDEPLOY_CONFIG)
        # CreateDeployment is never retried blindly (shared/adapters/codedeploy.py): a client of
        # its own.
        self.codedeploy_create = boto3.client(
            "codedeploy",
            region_name=REGION,
            config=CODEDEPLOY_CONFIG.merge(Config(retries={"total_max_attempts": 1})),
        )
        self.trigger_dynamodb = boto3.client("dynamodb", region_name=REGION, config=DYNAMODB_CONFIG)
        # The recorder's own client: its writes are not the trigger's reads.
        self.recorder_dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_resources(self.codedeploy, self.recorder_dynamodb, n)
        for client in (self.codedeploy, self.codedeploy_create, self.trigger_dynamodb):
            self.meter.watch(client)
        for client in (self.codedeploy, self.trigger_dynamodb):
            FastReads(locks).install(client)  # after the meter's hook: counted, then answered


def create_resources(codedeploy: Any, dynamodb: Any, n: int) -> None:
    """The application, one deployment group per deployment, and the status table."""
    create_blue_green_group(codedeploy, APPLICATION, *(group_name(i) for i in range(n)))
    create_status_table(dynamodb, TABLE)


@contextlib.contextmanager
def emulated_aws(n: int) -> Iterator[tuple[World, Locks]]:
    """A fresh moto (its state is reset on exit) holding the resources."""
    with mock_aws(), serialised_backends() as locks:
        yield World(n, locks), locks
