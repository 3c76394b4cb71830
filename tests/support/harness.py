"""The trigger under test: a request builder, a harness whose sleeps tick frozen time, and
public handles on the clients it made, to count calls and inject faults at the client
boundary (botocore event hooks), never inside the trigger's objects.
"""

from __future__ import annotations

import http.client
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from shared.adapters import clients as aws
from shared.adapters.codedeploy import CodeDeployGateway
from shared.recorder import RecorderService
from shared.trigger.dispatch import TriggerService
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import HOME_ORIGIN, SimulatedCodeDeploy

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
APP = "web-app"
GROUP = "web-group"
TABLE = "codedeploy-trigger-status"

ClientName = Literal["codedeploy", "codedeploy_create", "dynamodb"]


def appspec_request(**overrides: Any) -> dict[str, Any]:
    """A valid ECS request, as Terraform's aws_lambda_invocation would send it."""
    request: dict[str, Any] = {
        "applicationName": APP,
        "deploymentGroupName": GROUP,
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": '{"version": 0.0, "Resources": []}'},
        },
    }
    request.update(overrides)
    return request


# --- counting calls ---------------------------------------------------------------------------


class CallCounter:
    """Counts API operations made through a client (botocore's before-call event)."""

    def __init__(self, *clients: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_kwargs: Any) -> None:
        self.calls[model.name] += 1
        self.order.append(model.name)


# --- injecting faults -------------------------------------------------------------------------


@dataclass
class Fault:
    """One fault on one operation of one client: how many calls it saw, how many it failed."""

    calls: int = 0
    failed: int = 0


def inject_fault(
    client: Any,
    operation: str,
    *,
    error_code: str | None = None,
    http_status: int | None = None,
    message: str | None = None,
    times: int | None = 1,
    after: int = 0,
    exception: Exception | None = None,
) -> Fault:
    """Fail calls ``after + 1`` to ``after + times`` of ``operation`` (``times=None``: every
    call from then on) before they are sent, with ``exception`` or an AWS error.

    The AWS error is the ``ClientError`` botocore raises for an error response. Given only
    an HTTP status, it has the code and message botocore's parser makes of an error body it
    cannot read (``str(status)`` and the reason phrase: ``_do_generic_error_parsing`` in
    botocore/parsers.py), as a 5xx from a load balancer would give.
    """
    if exception is None and error_code is None and http_status is None:
        raise TypeError("a fault needs an error_code, an http_status or an exception")
    model = client.meta.service_model
    if operation not in model.operation_names:
        # A misspelt operation would register a hook that never fires: a test that proves nothing.
        raise ValueError(f"{model.service_name} has no operation {operation!r}")
    status = http_status if http_status is not None else 400
    code = error_code if error_code is not None else str(status)
    text = message if message is not None else http.client.responses.get(status, "")
    fault = Fault()

    def fail(**_kwargs: Any) -> None:
        fault.calls += 1
        if fault.calls <= after or (times is not None and fault.calls > after + times):
            return
        fault.failed += 1
        if exception is not None:
            raise exception
        raise ClientError(
            {
                "Error": {"Code": code, "Message": text},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    client.meta.events.register(
        f"before-call.{model.service_id.hyphenize()}.{operation}", fail, unique_id=id(fault)
    )
    return fault


ACTIVE_ID = "d-ACTIVE123"


def deployment_limit_exceeded(client: Any, times: int = 1, active: str = ACTIVE_ID) -> list[int]:
    """CreateDeployment refused ``times`` because ``active`` is in progress in the group."""
    calls = [0]

    def raise_limit(**_kwargs: Any) -> None:
        calls[0] += 1
        if calls[0] <= times:
            raise ClientError(
                {
                    "Error": {
                        "Code": "DeploymentLimitExceededException",
                        "Message": f"The deployment {active} is already in progress.",
                    }
                },
                "CreateDeployment",
            )

    client.meta.events.register("before-call.codedeploy.CreateDeployment", raise_limit)
    return calls


def stub_stop_deployment(client: Any) -> list[dict[str, Any]]:
    """moto has no StopDeployment: answer it before it is sent, and record the call."""
    seen: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_kwargs: Any) -> Any:
        seen.append(json.loads(params["body"]))
        return SimpleNamespace(status_code=200), {"status": "Pending", "statusMessage": "stopping"}

    client.meta.events.register("before-call.codedeploy.StopDeployment", answer)
    return seen


# --- the harness ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarnessClients:
    """The clients the harness made and handed to the trigger: where tests hook in."""

    codedeploy: CodeDeployClient
    codedeploy_create: CodeDeployClient
    """CreateDeployment's own client, which never retries (as in production)."""
    dynamodb: DynamoDBClient

    def named(self, name: ClientName) -> Any:
        clients: dict[str, Any] = {
            "codedeploy": self.codedeploy,
            "codedeploy_create": self.codedeploy_create,
            "dynamodb": self.dynamodb,
        }
        return clients[name]

    def all(self) -> tuple[Any, ...]:
        return (self.codedeploy, self.codedeploy_create, self.dynamodb)


class Faults:
    """Fault injection on the harness's clients, by client name."""

    def __init__(self, clients: HarnessClients) -> None:
        self._clients = clients

    def on(
        self,
        client_name: ClientName,
        operation: str,
        *,
        error_code: str | None = None,
        http_status: int | None = None,
        message: str | None = None,
        times: int | None = 1,
        after: int = 0,
        exception: Exception | None = None,
    ) -> Fault:
        """See :func:`inject_fault`."""
        return inject_fault(
            self._clients.named(client_name),
            operation,
            error_code=error_code,
            http_status=http_status,
            message=message,
            times=times,
            after=after,
            exception=exception,
        )


class Harness:
    """A trigger whose sleeps tick frozen time and let the simulator catch up."""

    def __init__(self, frozen_time: Any, simulator: SimulatedCodeDeploy, codedeploy: Any) -> None:
        self.frozen = frozen_time
        self.simulator = simulator
        self.sleeps: list[float] = []
        # The production clients, with their retry policies (fixtures only provision).
        self.clients = HarnessClients(
            codedeploy=aws.codedeploy_client(),
            codedeploy_create=aws.codedeploy_create_ladder().within(math.inf),
            dynamodb=aws.dynamodb_client(),
        )
        self.faults = Faults(self.clients)
        self.gateway = CodeDeployGateway(
            self.clients.codedeploy, create_client=self.clients.codedeploy_create
        )
        self.service = TriggerService(
            codedeploy=self.gateway,
            dynamodb_client=self.clients.dynamodb,
            clock=lambda: time.monotonic(),
            sleep=self.sleep,
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.frozen.tick(seconds)
        self.simulator.advance()

    def invoke(self, event: Any, timeout: float = 900.0) -> Any:
        return self.service.handle(event, FakeLambdaContext(timeout_seconds=timeout))


def counters(harness: Harness) -> CallCounter:
    """Counts every call the harness's trigger makes through its CodeDeploy and DynamoDB."""
    return CallCounter(*harness.clients.all())


def event_harness(make_harness: Callable[..., Harness], dynamodb: Any, **options: Any) -> Harness:
    """A harness whose simulated events reach the status table through the recorder."""
    recorder = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)
    return make_harness(deliver=recorder.handle, **options)
