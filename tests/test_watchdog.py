"""The watchdog bounds the whole invocation, where botocore's timeouts cannot: a response
trickling in one byte a second, a resolver that never answers, a call inside the margin.

The first three tests run in real time on loopback sockets, with a 6 s Lambda context and a
2.5 s margin (a few seconds each): there, real time is the point. The others ring an
injected alarm from a botocore event hook, inside the call, as SIGALRM would.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from handlers import trigger
from shared.adapters import clients as aws
from shared.adapters.codedeploy import CodeDeployGateway
from shared.errors import DeploymentWaitTimeout
from shared.trigger.dispatch import TriggerService
from shared.trigger.watchdog import Watchdog
from tests.support import moto_codedeploy
from tests.support.faulty_network import trickling_server
from tests.support.harness import APP, GROUP, REGION, appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import CANARY_CONFIG, create_canary_config
from tests.support.simulator import succeed_after

TIMEOUT, MARGIN = 6.0, 2.5
# The wait phase's calls may run until MARGIN is left; the watchdog interrupts one that is
# still running with 80% of it left (2 s), and the answer needs no more than that.
ANSWERED_BY = TIMEOUT - 1.0


@pytest.fixture
def short_invocation(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the production clients at ``endpoint`` with a small margin."""

    def point_at(endpoint: str) -> None:
        monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", str(MARGIN))
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        aws.reset_clients()

    return point_at


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except Exception as error:  # the assertions name it
        return error, time.monotonic() - started


# --- real time, real sockets -----------------------------------------------------------------


@pytest.mark.integration  # real time, real sockets
def test_a_response_trickling_one_byte_a_second_ends_in_deployment_wait_timeout(
    short_invocation: Callable[[str], None],
) -> None:
    """read_timeout never trips (a byte arrives every second); the watchdog does."""
    with trickling_server() as server:
        short_invocation(server.url)
        answer, elapsed = timed(
            lambda: trigger.lambda_handler(
                {"deploymentId": "d-TRICKLE01"}, FakeLambdaContext(timeout_seconds=TIMEOUT)
            )
        )

    assert isinstance(answer, DeploymentWaitTimeout), answer
    assert "d-TRICKLE01" in str(answer)
    assert server.operations[:1] == ["GetDeployment"]
    # Not before the wait budget ran out, and well before Lambda would kill the function.
    assert TIMEOUT - MARGIN <= elapsed < ANSWERED_BY, f"answered after {elapsed:.1f}s"


@pytest.mark.integration  # real time, real sockets
def test_on_deadline_return_hands_over_when_get_deployment_trickles(
    short_invocation: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first GetDeployment soon after CreateDeployment, while the wait budget still
    # affords the briefest call policy (3 s).
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "0.1")
    created = {"CreateDeployment": {"deploymentId": "d-HANDOVER1"}}
    with trickling_server(created) as server:
        short_invocation(server.url)
        answer, elapsed = timed(
            lambda: TriggerService().handle(
                appspec_request(onDeadline="return"), FakeLambdaContext(timeout_seconds=TIMEOUT)
            )
        )

    assert not isinstance(answer, Exception), answer
    assert (answer["deploymentId"], answer["status"], answer["complete"]) == (
        "d-HANDOVER1",
        "Created",
        False,
    )
    assert server.operations.count("CreateDeployment") == 1
    assert "GetDeployment" in server.operations
    assert TIMEOUT - MARGIN <= elapsed < ANSWERED_BY, f"answered after {elapsed:.1f}s"


@pytest.mark.integration  # real time
def test_a_resolver_that_never_answers_ends_in_deployment_wait_timeout(
    short_invocation: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS has no timeout in botocore: urllib3 calls socket.getaddrinfo, which blocks here."""
    stalled_host = "codedeploy.stalled-resolver.test"
    resolve = socket.getaddrinfo
    asked: list[str] = []

    def stalling_resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != stalled_host:
            return resolve(host, *args, **kwargs)
        asked.append(host)
        threading.Event().wait(20)  # bounded, so a broken watchdog fails instead of hanging
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", stalling_resolver)
    short_invocation(f"http://{stalled_host}:8080")
    answer, elapsed = timed(
        lambda: TriggerService().handle(
            {"deploymentId": "d-NODNS0001"}, FakeLambdaContext(timeout_seconds=TIMEOUT)
        )
    )

    assert isinstance(answer, DeploymentWaitTimeout), answer
    assert "d-NODNS0001" in str(answer)
    assert asked == [stalled_host]
    assert TIMEOUT - MARGIN <= elapsed < ANSWERED_BY, f"answered after {elapsed:.1f}s"


# --- an injected alarm, rung inside the call ---------------------------------------------------


class ManualAlarm:
    """The watchdog's alarm, rung by the test (from a botocore hook, inside the call)."""

    def __init__(self) -> None:
        self._ring: Callable[[], None] | None = None
        self.delays: list[float] = []

    def usable(self) -> bool:
        return True

    def set(self, seconds: float, ring: Callable[[], None]) -> None:
        self.delays.append(seconds)
        self._ring = ring

    def clear(self) -> None:
        self._ring = None

    def ring(self) -> None:
        assert self._ring is not None, "the watchdog was not armed during this call"
        self._ring()


class CallLog:
    """Every API call a client makes (botocore's before-call hook), and ``ring_on`` rings the
    alarm inside the n-th call of an operation."""

    def __init__(self, alarm: ManualAlarm) -> None:
        self.alarm = alarm
        self.calls: list[str] = []
        self.rings: dict[str, list[int]] = {}

    def watch(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._before_call)
        return client

    def ring_on(self, operation: str, nth: int = 1) -> None:
        self.rings.setdefault(operation, []).append(nth)

    def _before_call(self, model: Any, **_kwargs: Any) -> None:
        operation = str(model.name)
        self.calls.append(operation)
        if self.calls.count(operation) in self.rings.get(operation, []):
            self.alarm.ring()


@pytest.fixture
def calls(codedeploy: Any) -> CallLog:
    return CallLog(ManualAlarm())


class TickingClock:
    """The trigger's clock and sleep: a sleep moves the clock, at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def service_with(calls: CallLog, *, create_client: Any = None) -> TriggerService:
    """The trigger on moto, every client watched by ``calls``, the alarm injected."""
    clock = TickingClock()
    codedeploy = calls.watch(boto3.client("codedeploy", region_name=REGION))
    if create_client is None:
        create_client = boto3.client("codedeploy", region_name=REGION, config=CREATE_CONFIG)
    return TriggerService(
        codedeploy=CodeDeployGateway(codedeploy, create_client=calls.watch(create_client)),
        dynamodb_client=calls.watch(boto3.client("dynamodb", region_name=REGION)),
        clock=clock,
        sleep=clock.sleep,
        watchdog=Watchdog(calls.alarm),
    )


CREATE_CONFIG = aws.CODEDEPLOY_CREATE_POLICIES[0].config()


def interrupting_on_harness(harness: Any, operation: str) -> tuple[TriggerService, CallLog]:
    """The trigger on the harness's simulated CodeDeploy, the alarm ringing on ``operation``."""
    calls = CallLog(ManualAlarm())
    calls.watch(aws.codedeploy_client())  # the harness's client, and the diagnostics' one
    calls.ring_on(operation)
    service = TriggerService(
        codedeploy=harness.gateway,
        clock=time.monotonic,
        sleep=harness.sleep,
        watchdog=Watchdog(calls.alarm),
    )
    return service, calls


def test_interrupted_once_create_deployment_acted_says_it_may_have_and_never_resends(
    calls: CallLog, status_table: str
) -> None:
    """The deployment exists but its id never arrived (as with a trickling answer)."""
    created: list[str] = []

    def lose_the_answer(parsed: dict[str, Any], **_kwargs: Any) -> None:
        created.append(parsed["deploymentId"])
        calls.alarm.ring()

    create_client = boto3.client("codedeploy", region_name=REGION, config=CREATE_CONFIG)
    create_client.meta.events.register("after-call.codedeploy.CreateDeployment", lose_the_answer)
    service = service_with(calls, create_client=create_client)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        service.handle(appspec_request(), FakeLambdaContext(timeout_seconds=900))

    message = str(raised.value)
    assert "may or may not have started a deployment" in message
    assert f"{APP}/{GROUP}" in message
    assert list(moto_codedeploy.deployments()) == created
    # Nothing after the interruption: no resend, no clean-up call to the table.
    assert calls.calls[-1] == "CreateDeployment"
    assert calls.calls.count("CreateDeployment") == 1


def test_interrupted_while_saving_the_idempotency_record_keeps_the_id_it_created(
    calls: CallLog, status_table: str
) -> None:
    calls.ring_on("UpdateItem")  # Powertools saves the created id with UpdateItem
    service = service_with(calls)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        service.handle(appspec_request(), FakeLambdaContext(timeout_seconds=900))

    [deployment_id] = moto_codedeploy.deployments()
    message = str(raised.value)
    assert f"deployment {deployment_id} (last status Created)" in message
    assert f'{{"deploymentId": "{deployment_id}"}}' in message
    assert calls.calls.count("CreateDeployment") == 1
    assert calls.calls.index("CreateDeployment") < calls.calls.index("UpdateItem")


def test_interrupted_before_create_deployment_says_nothing_was_created(
    calls: CallLog, status_table: str
) -> None:
    calls.ring_on("PutItem")  # Powertools' in-progress record, before CreateDeployment
    service = service_with(calls)

    with pytest.raises(DeploymentWaitTimeout, match="no deployment was created"):
        service.handle(appspec_request(), FakeLambdaContext(timeout_seconds=900))

    assert moto_codedeploy.deployments() == {}
    assert calls.calls == ["PutItem"]


def test_a_stop_deployment_that_never_answers_is_said_and_nothing_else_is_called(
    calls: CallLog,
) -> None:
    """The answer's own calls are bounded too: StopDeployment is interrupted at the end."""
    # The wait phase's first call (its first poll): answered as at the deadline.
    calls.ring_on("GetDeployment")
    calls.ring_on("StopDeployment")  # the answer's call: answered with what is known
    service = service_with(calls)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        service.handle(appspec_request(stopOnTimeout=True), FakeLambdaContext(timeout_seconds=900))

    [deployment_id] = moto_codedeploy.deployments()
    message = str(raised.value)
    assert f"deployment {deployment_id} (last status Created)" in message
    assert "StopDeployment failed, so the deployment may still be running" in message
    assert "no answer before the function's deadline" in message
    # Nothing but the interrupted poll before the stop (the group's clock makes no call of
    # its own: it waits for a GetDeployment answer, and this one never came).
    assert calls.calls == ["CreateDeployment", "GetDeployment", "StopDeployment"]


def test_interrupted_after_the_end_answers_with_the_end_without_details(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Succeeded is known; the lifecycle read after it is cut short and left out."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "30")
    harness = make_harness(planner=lambda _d: succeed_after(20))
    service, calls = interrupting_on_harness(harness, "ListDeploymentTargets")

    answer: Any = service.handle(appspec_request(), FakeLambdaContext(timeout_seconds=900))

    assert (answer["status"], answer["complete"]) == ("Succeeded", True)
    assert "lifecycle" not in answer
    # Armed at the wait budget plus a fifth of the margin (900 - 24), then, once the work
    # inside the margin began, moved to one second before the end.
    waited = sum(harness.sleeps)
    assert calls.alarm.delays[0] == pytest.approx(900 - 24, abs=0.5)
    assert calls.alarm.delays[1] == pytest.approx(900 - waited - 1, abs=0.5)


def test_a_clock_call_interrupted_after_the_end_keeps_the_end(
    make_harness: Any, codedeploy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look at an attached deployment shows its end; the group's clock, read from
    that answer, needs GetDeploymentConfig (a custom configuration), and that call is cut
    short: the answer is the end, not a timeout."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "30")
    create_canary_config(codedeploy)
    harness = make_harness(planner=lambda _d: succeed_after(20))
    created = harness.invoke(appspec_request(deploymentConfigName=CANARY_CONFIG, wait=False))
    harness.sleep(60)
    service, calls = interrupting_on_harness(harness, "GetDeploymentConfig")

    answer: Any = service.handle(
        {"deploymentId": created["deploymentId"]}, FakeLambdaContext(timeout_seconds=900)
    )

    assert (answer["status"], answer["complete"]) == ("Succeeded", True)
    assert "groupClock" not in answer  # its only call was cut short: nothing invented
    assert calls.calls == ["GetDeployment", "GetDeploymentConfig"]


# --- the alarm itself -------------------------------------------------------------------------


def test_off_the_main_thread_the_watchdog_stands_aside_and_says_so_once(
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    watchdog = Watchdog()
    answers: list[str] = []

    def twice() -> None:
        for _ in range(2):
            answers.append(watchdog.run(0.01, lambda: "worked", lambda: "expired"))

    worker = threading.Thread(target=twice)
    worker.start()
    worker.join(timeout=10)

    assert answers == ["worked", "worked"]
    said = [line for line in log_lines() if line["message"].startswith("watchdog off")]
    assert len(said) == 1


@pytest.mark.integration  # real time, a real SIGALRM
def test_the_signal_alarm_interrupts_a_blocked_wait_and_puts_everything_back() -> None:
    def previous_handler(_signum: int, _frame: Any) -> None:
        raise AssertionError("the previous handler must not ring during the guard")

    before = signal.signal(signal.SIGALRM, previous_handler)
    try:
        answer, elapsed = timed(
            lambda: Watchdog().run(0.2, lambda: threading.Event().wait(10), lambda: "expired")
        )

        assert answer == "expired"
        assert elapsed < 2
        assert signal.getsignal(signal.SIGALRM) is previous_handler
        assert Watchdog().run(0.3, lambda: "worked", lambda: "expired") == "worked"
        assert signal.getsignal(signal.SIGALRM) is previous_handler
        threading.Event().wait(0.5)  # past the cleared alarm: the previous handler stays silent
    finally:
        signal.signal(signal.SIGALRM, before)
