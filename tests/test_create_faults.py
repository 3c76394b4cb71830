"""One CreateDeployment per invocation whatever the table does; a failure's explanation is
never replaced by the table's error; errors raised before a request leaves are clear.

Faults are injected at the client boundary with botocore event hooks on the clients the
trigger is built with: the idempotency record's PutItem, UpdateItem and DeleteItem answer
as DynamoDB would when throttled, denied or failing (botocore raises the modeled error from
the answer), and CreateDeployment succeeds, is refused, or loses its answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.credentials import CredentialResolver
from botocore.exceptions import ReadTimeoutError

from shared.adapters import clients as aws
from shared.adapters import status_table as table
from shared.adapters.codedeploy import CodeDeployGateway
from shared.adapters.idempotency import KEY_PREFIX
from shared.errors import CodeDeployError, DeploymentFailed, DeploymentWaitTimeout
from shared.recorder import RecorderService
from shared.trigger.dispatch import TriggerService
from tests.support import moto_codedeploy
from tests.support.harness import APP, GROUP, REGION, appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import HOME_ORIGIN, SimulatedCodeDeploy, fail_after, succeed_after

# How DynamoDB answers each fault (DynamoDB API reference, "Common errors" and the
# operations' errors): the HTTP status and the error code botocore turns into an exception.
TABLE_FAULTS = {
    "throttled": (400, "ProvisionedThroughputExceededException"),
    "denied": (400, "AccessDeniedException"),
    "5xx": (500, "InternalServerError"),
}
RECORD_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
CREATE_OUTCOMES = ("ok", "refused", "ambiguous-made", "ambiguous-lost")
# Which record write each CreateDeployment outcome reaches: PutItem always comes first;
# UpdateItem saves the id once there is one; DeleteItem clears the record after an error.
REACHES = {
    "ok": {"PutItem", "UpdateItem"},
    "ambiguous-made": {"PutItem", "UpdateItem"},
    "refused": {"PutItem", "DeleteItem"},
    "ambiguous-lost": {"PutItem", "DeleteItem"},
}


def error_answer(status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    """A ``before-call`` answer: botocore raises the modeled error, as for a real response."""
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return SimpleNamespace(status_code=status, headers={}), parsed


@dataclass
class Trigger:
    """The trigger with clients this test holds, so hooks go on public references."""

    frozen: Any
    simulator: SimulatedCodeDeploy
    codedeploy: Any
    create_client: Any
    dynamodb: Any
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gateway = CodeDeployGateway(self.codedeploy, create_client=self.create_client)
        self.service = TriggerService(
            codedeploy=self.gateway,
            dynamodb_client=self.dynamodb,
            clock=time.monotonic,
            sleep=self.sleep,
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.frozen.tick(seconds)
        self.simulator.advance()

    def invoke(self, event: Any, timeout: float = 900.0) -> Any:
        return self.service.handle(event, FakeLambdaContext(timeout_seconds=timeout))

    def count(self, client: Any, operation: str) -> list[int]:
        """Count the calls of ``operation`` that reach the client (each attempt)."""
        calls = [0]

        def seen(**_kwargs: Any) -> None:
            calls[0] += 1

        client.meta.events.register(f"before-call.{_event_service(client)}.{operation}", seen)
        return calls

    def fail_record_write(self, operation: str, fault: str) -> list[int]:
        """``operation`` on an idempotency record answers with ``fault``; other items work."""
        status, code = TABLE_FAULTS[fault]
        fired = [0]

        def answer(params: dict[str, Any], **_kwargs: Any) -> Any:
            body = json.loads(params["body"])
            key = (body.get("Key") or body.get("Item") or {}).get(table.DEPLOYMENT_ID, {})
            if not str(key.get("S", "")).startswith(KEY_PREFIX):
                return None
            fired[0] += 1
            return error_answer(status, code, f"injected {fault} fault")

        self.dynamodb.meta.events.register(f"before-call.dynamodb.{operation}", answer)
        return fired

    def create_outcome(self, outcome: str) -> None:
        events = self.create_client.meta.events
        if outcome == "refused":
            events.register(
                "before-call.codedeploy.CreateDeployment",
                lambda **_kwargs: error_answer(
                    400, "InvalidRevisionException", "The revision is invalid."
                ),
            )
        elif outcome == "ambiguous-lost":
            # The request never reached CodeDeploy, but the caller cannot know that.
            events.register("before-call.codedeploy.CreateDeployment", _read_timeout)
        elif outcome == "ambiguous-made":
            # CodeDeploy created the deployment; its answer was lost on the way back.
            events.register("after-call.codedeploy.CreateDeployment", _read_timeout)


def _event_service(client: Any) -> str:
    return str(client.meta.service_model.service_id).lower().replace(" ", "-")


def _read_timeout(**_kwargs: Any) -> None:
    raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")


@pytest.fixture
def make_trigger(
    frozen: Any, codedeploy: Any, dynamodb: Any, status_table: str
) -> Iterator[Callable[..., Trigger]]:
    def build(create_client: Any = None, **simulator_options: Any) -> Trigger:
        simulator = SimulatedCodeDeploy(
            clock=time.monotonic,
            deliver=RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle,
            **simulator_options,
        )
        return Trigger(
            frozen,
            simulator,
            aws.codedeploy_client(),
            create_client or aws.codedeploy_create_ladder().within(float("inf")),
            aws.dynamodb_client(),
        )

    yield build


# --- 1. one CreateDeployment per invocation -----------------------------------------------


@pytest.mark.parametrize("outcome", CREATE_OUTCOMES)
@pytest.mark.parametrize("fault", sorted(TABLE_FAULTS))
@pytest.mark.parametrize("write", RECORD_WRITES)
def test_one_create_deployment_per_invocation_whatever_the_table_does(
    make_trigger: Callable[..., Trigger], write: str, fault: str, outcome: str
) -> None:
    trigger = make_trigger(planner=lambda _d: succeed_after(20))
    creates = trigger.count(trigger.create_client, "CreateDeployment")
    fired = trigger.fail_record_write(write, fault)
    trigger.create_outcome(outcome)

    try:
        answer: Any = trigger.invoke(appspec_request())
    except CodeDeployError as error:
        answer = error

    assert creates[0] == 1
    assert fired[0] > 0 if write in REACHES[outcome] else fired[0] == 0
    deployments = list(moto_codedeploy.deployments())
    if outcome in ("ok", "ambiguous-made"):
        # The deployment made is the one used: kept after a failed save, or adopted.
        assert deployments == [answer["deploymentId"]]
        assert (answer["status"], answer["replayed"]) == ("Succeeded", False)
    elif outcome == "refused":
        assert deployments == []
        assert isinstance(answer, CodeDeployError)
        assert "InvalidRevisionException" in str(answer)
        assert "The revision is invalid." in str(answer)
    else:
        assert deployments == []
        assert isinstance(answer, CodeDeployError)
        assert "may or may not have started a deployment" in str(answer)


def test_a_created_deployment_whose_record_cannot_be_saved_is_waited_for_not_resent(
    make_trigger: Callable[..., Trigger], caplog: pytest.LogCaptureFixture
) -> None:
    trigger = make_trigger(planner=lambda _d: succeed_after(20))
    creates = trigger.count(trigger.create_client, "CreateDeployment")
    trigger.fail_record_write("UpdateItem", "5xx")

    result = trigger.invoke(appspec_request())

    assert creates[0] == 1
    assert result["deploymentId"] == next(iter(moto_codedeploy.deployments()))
    # The table still serves the wait: only the record's save failed.
    assert result["detectedBy"] == "event"
    assert "its idempotency record could not be saved" in caplog.text


def test_an_ambiguous_create_whose_record_cannot_be_cleared_is_not_resent_by_a_retry(
    make_trigger: Callable[..., Trigger],
) -> None:
    """The record stays in progress: an identical retry inside this invocation's time waits
    for it rather than sending CreateDeployment into an unknown outcome."""
    trigger = make_trigger(planner=lambda _d: succeed_after(20))
    creates = trigger.count(trigger.create_client, "CreateDeployment")
    trigger.fail_record_write("DeleteItem", "denied")
    trigger.create_outcome("ambiguous-lost")

    with pytest.raises(CodeDeployError, match="may or may not have started"):
        trigger.invoke(appspec_request(), timeout=60)
    with pytest.raises(DeploymentWaitTimeout, match="gave up waiting for an identical request"):
        trigger.invoke(appspec_request(), timeout=30)

    assert creates[0] == 1


def test_a_record_left_by_a_refused_create_does_not_block_on_active_deployment_wait(
    make_trigger: Callable[..., Trigger],
) -> None:
    """The group is busy, DeleteItem fails: the retry after the wait does not wait for its
    own record; it tries to clear it, and without the table creates once."""
    trigger = make_trigger(planner=lambda _d: succeed_after(40))
    active = trigger.invoke(appspec_request(description="someone else", wait=False))
    creates = trigger.count(trigger.create_client, "CreateDeployment")
    busy = [0]

    def group_busy_once(**_kwargs: Any) -> Any:
        busy[0] += 1
        if busy[0] > 1:
            return None
        return error_answer(
            400,
            "DeploymentLimitExceededException",
            f"The deployment {active['deploymentId']} is already in progress.",
        )

    trigger.create_client.meta.events.register(
        "before-call.codedeploy.CreateDeployment", group_busy_once
    )
    trigger.fail_record_write("DeleteItem", "throttled")

    result = trigger.invoke(appspec_request(onActiveDeployment="wait"))

    assert result["status"] == "Succeeded"
    assert result["deploymentId"] != active["deploymentId"]
    assert creates[0] == 2  # refused (group busy), then the one that created
    assert len(moto_codedeploy.deployments()) == 2


# --- 2. a failure's explanation is never masked ---------------------------------------------


@pytest.mark.parametrize("fault", sorted(TABLE_FAULTS))
def test_deployment_failed_survives_a_delete_item_fault_and_a_retry_deploys_again(
    make_trigger: Callable[..., Trigger], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    plans = iter([fail_after(20), succeed_after(20)])
    trigger = make_trigger(planner=lambda _d: next(plans))
    fired = trigger.fail_record_write("DeleteItem", fault)

    with pytest.raises(DeploymentFailed) as raised:
        trigger.invoke(appspec_request())

    assert fired[0] == 1
    message = str(raised.value)
    assert "HEALTH_CONSTRAINTS" in message
    assert "d-ROLLBACK1" in message
    assert "could not clear the idempotency record" in caplog.text

    # The record still names the failed deployment and still cannot be cleared: the retry
    # sees the failure, deploys again without the record, and says it is no replay.
    retried = trigger.invoke(appspec_request())

    assert retried["status"] == "Succeeded"
    assert retried["replayed"] is False
    assert len(moto_codedeploy.deployments()) == 2


# --- 3. errors raised before the request left are clear -------------------------------------


def test_a_request_boto3_refuses_to_build_is_a_clear_error(
    make_trigger: Callable[..., Trigger],
) -> None:
    """An older boto3 model than the input (the runtime's bundled boto3 is not pinned)."""
    trigger = make_trigger()
    creates = trigger.count(trigger.create_client, "CreateDeployment")
    lookups = trigger.count(trigger.codedeploy, "ListDeployments")

    def unknown_to_this_model(params: dict[str, Any], **_kwargs: Any) -> None:
        params["optionFromANewerModel"] = "x"

    trigger.create_client.meta.events.register(
        "before-parameter-build.codedeploy.CreateDeployment", unknown_to_this_model
    )

    with pytest.raises(CodeDeployError) as raised:
        trigger.invoke(appspec_request())

    message = str(raised.value)
    assert "was not sent (ParamValidationError)" in message
    assert "optionFromANewerModel" in message
    assert "no deployment was created" in message
    assert "may or may not" not in message
    assert raised.value.code == "ParamValidationError"
    assert (creates[0], lookups[0]) == (0, 0)
    assert moto_codedeploy.deployments() == {}


def test_a_function_without_credentials_gets_a_clear_error(
    make_trigger: Callable[..., Trigger],
) -> None:
    # A credential chain that finds nothing: botocore raises NoCredentialsError while
    # signing, before anything is sent.
    session = botocore.session.Session()
    session.register_component("credential_provider", CredentialResolver(providers=[]))
    create_client = boto3.Session(botocore_session=session, region_name=REGION).client(
        "codedeploy", config=aws.CODEDEPLOY_CREATE_POLICIES[0].config()
    )
    trigger = make_trigger(create_client=create_client)
    lookups = trigger.count(trigger.codedeploy, "ListDeployments")

    with pytest.raises(CodeDeployError) as raised:
        trigger.invoke(appspec_request())

    message = str(raised.value)
    assert f"CreateDeployment for {APP}/{GROUP} was not sent (NoCredentialsError)" in message
    assert "check its execution role" in message
    assert "may or may not" not in message
    assert lookups[0] == 0
    assert trigger.sleeps == []  # not retried either
    assert moto_codedeploy.deployments() == {}
