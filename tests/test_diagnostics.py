"""The diagnostics adapter per compute platform, its error and deadline handling,
and the failure text it feeds (one line, under 4 KB)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters import clients as aws
from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.diagnostics import (
    CALL_RESERVE_SECONDS,
    Diagnostics,
    DiagnosticsCollector,
    EcsService,
    HookDiagnostics,
    LifecycleEvent,
    RollbackReport,
    StoppedTask,
    Target,
    Timeline,
)
from shared.report.failure import LOG_TAIL_BYTES, MAX_MESSAGE_CHARS, failure_message, progress_note
from shared.report.result import lifecycle_summary
from tests.support import moto_codedeploy
from tests.support.deployment_targets import (
    ECS_EVENTS,
    ECS_HOOK_FAILURE,
    LAMBDA_HOOK_FAILURE,
    SERVER_EVENTS,
    SERVER_HOOK_FAILURE,
    instance_target,
    lifecycle_events,
)
from tests.support.harness import REGION
from tests.support.provision import SERVICE_ROLE_ARN
from tests.support.simulator import SimulatedCodeDeploy, fail_after, stop_after, succeed_after

CLUSTER, SERVICE = "web-cluster", "web-service"
URL = "https://console.aws.amazon.com/codesuite/codedeploy/deployments/d-X?region=us-east-1"
PLENTY: Callable[[], float] = lambda: 600.0  # noqa: E731


@pytest.fixture
def client(moto: None) -> Any:
    return boto3.client("codedeploy", region_name=REGION)


def _group(client: Any, platform: str, **extra: Any) -> tuple[str, str]:
    app, group = f"app-{platform.lower()}", f"group-{platform.lower()}"
    client.create_application(applicationName=app, computePlatform=platform)
    if platform == "ECS":
        extra["ecsServices"] = [{"serviceName": SERVICE, "clusterName": CLUSTER}]
    client.create_deployment_group(
        applicationName=app, deploymentGroupName=group, serviceRoleArn=SERVICE_ROLE_ARN, **extra
    )
    return app, group


@pytest.fixture
def deploy(client: Any, frozen: Any) -> Callable[..., str]:
    """Create a deployment on a platform and let the simulated CodeDeploy run it to its end."""

    def run(platform: str, plan: Callable[[float], Any] = fail_after, **options: Any) -> str:
        app, group = _group(client, platform, **options.pop("group", {}))
        simulator = SimulatedCodeDeploy(clock=time.monotonic, planner=lambda _d: plan(60))
        deployment_id: str = client.create_deployment(
            applicationName=app, deploymentGroupName=group, **options
        )["deploymentId"]
        for _ in range(70):
            frozen.tick(1)
            simulator.advance()
        return deployment_id

    return run


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    """A real ECS client whose answers are stubbed (Stubber checks them against the model)."""
    client = boto3.client("ecs", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _stub_ecs_failure(stubber: Stubber, green_task_set: str) -> None:
    task = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/0a1b2c3d4e5f"
    other = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/ffffffffffff"
    stubber.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "events": [
                        {"id": "3", "message": f"(service {SERVICE}) has started 2 tasks"},
                        {"id": "2", "message": f"(service {SERVICE}) deregistered 1 target"},
                        {"id": "1", "message": "older"},
                        {"id": "0", "message": "oldest"},
                    ],
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    stubber.add_response(
        "list_tasks",
        {"taskArns": [other, task]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [
                {"taskArn": other, "startedBy": "ecs-svc/old", "stoppedReason": "Scaling"},
                {
                    "taskArn": task,
                    "startedBy": green_task_set,
                    "stoppedReason": "Essential container in task exited",
                    "containers": [
                        {"name": "sidecar", "exitCode": 0},
                        {"name": "app", "exitCode": 137, "reason": "OutOfMemoryError"},
                    ],
                },
            ]
        },
        {"cluster": CLUSTER, "tasks": [other, task]},
    )


def test_ecs_failure_names_the_hook_its_log_and_the_replacement_tasks(
    deploy: Callable[..., str], client: Any, ecs: tuple[Any, Stubber]
) -> None:
    deployment_id = deploy("ECS")
    target = moto_codedeploy.targets_of(moto_codedeploy.deployments()[deployment_id])[0]
    green = target["ecsTarget"]["taskSetsInfo"][1]["identifer"]
    ecs_client, stubber = ecs
    _stub_ecs_failure(stubber, green)

    found = DiagnosticsCollector(client, PLENTY, ecs=lambda: ecs_client).explain(deployment_id)

    assert found.unavailable is None
    assert found.failing_target_count == 1
    (failing,) = found.failing_targets
    assert (failing.target_type, failing.target_id) == ("ECSTarget", f"{CLUSTER}:{SERVICE}")
    assert failing.replacement_task_set == green
    event = failing.first_failed_event
    assert event is not None and event.name == "AfterAllowTestTraffic"
    assert event.diagnostics == HookDiagnostics(
        error_code="ScriptFailed",
        script_name=ECS_HOOK_FAILURE.script_name,
        message=ECS_HOOK_FAILURE.message,
        log_tail=ECS_HOOK_FAILURE.log_tail,
    )
    # Only the replacement task set's stopped task, with the container that failed.
    (service,) = found.ecs_services
    assert service.stopped_tasks == (
        StoppedTask(
            "0a1b2c3d4e5f", "Essential container in task exited", "app", 137, "OutOfMemoryError"
        ),
    )
    assert len(service.events) == 3 and "has started 2 tasks" in service.events[0]

    message = failure_message(_snapshot(deployment_id), URL, found)
    assert (
        f"ECS service web-cluster:web-service, replacement task set {green}: "
        "AfterAllowTestTraffic Failed" in message
    )
    assert f"hook function {ECS_HOOK_FAILURE.script_name}: ScriptFailed" in message
    assert "log tail: START smoke test" in message
    assert 'relation "orders_v2" does not exist // smoke test FAILED' in message
    assert "stopped task 0a1b2c3d4e5f: Essential container in task exited" in message
    assert "(container app exit code 137: OutOfMemoryError)" in message
    assert "\n" not in message


def test_lambda_failure_names_the_function_and_its_hook(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("Lambda")

    found = DiagnosticsCollector(client, PLENTY).explain(deployment_id)

    (failing,) = found.failing_targets
    assert (failing.target_type, failing.target_id) == ("LambdaTarget", "app-lambda-function")
    event = failing.first_failed_event
    assert event is not None and event.name == LAMBDA_HOOK_FAILURE.event
    assert found.ecs_services == ()
    message = failure_message(_snapshot(deployment_id), URL, found)
    assert (
        "Lambda function app-lambda-function alias live version 1 -> 2: BeforeAllowTraffic "
        f"Failed, hook function {LAMBDA_HOOK_FAILURE.script_name}: ScriptFailed" in message
    )
    assert "No module named 'requests'" in message


def test_ec2_failure_shows_the_script_and_the_last_ten_log_lines(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("Server")

    found = DiagnosticsCollector(client, PLENTY).explain(deployment_id)

    # Two instances; the first failed ApplicationStart, the second was skipped.
    assert found.failing_target_count == 1
    (failing,) = found.failing_targets
    assert failing.target_type == "InstanceTarget" and failing.target_id.startswith("i-0")
    message = failure_message(_snapshot(deployment_id), URL, found)
    assert f"ApplicationStart Failed, script {SERVER_HOOK_FAILURE.script_name}" in message
    assert SERVER_HOOK_FAILURE.message in message
    # 12 lines in the tail: the first two are cut, and the text says so.
    assert "log tail (cut to its last 10 of 12 lines):" in message
    assert "attempt 2 //" not in message and "attempt 3 //" in message
    assert "EADDRINUSE" in message


def test_many_failing_targets_are_counted_across_pages_and_three_are_read(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("Server", plan=stop_after)
    now = datetime.now(UTC)
    failure = SERVER_HOOK_FAILURE
    targets = [
        instance_target(
            deployment_id,
            f"i-{n:017d}",
            lifecycle_events(
                SERVER_EVENTS, now - timedelta(minutes=5), now, outcome="Failed", failure=failure
            ),
            status="Failed",
            updated=now,
        )
        for n in range(120)
    ]
    moto_codedeploy.set_targets(deployment_id, targets)
    collector = DiagnosticsCollector(client, PLENTY)

    found = collector.explain(deployment_id)

    assert found.failing_target_count == 120
    assert [t.target_id for t in found.failing_targets] == [f"i-{n:017d}" for n in range(3)]
    # 3 pages of ids (50 per page here), then one batch of the 3 explained.
    assert collector.calls == 4
    message = failure_message(_snapshot(deployment_id), URL, found)
    assert "and 117 more failing targets" in message
    assert message.count("ApplicationStart Failed") == 3
    assert _printed(message) <= MAX_MESSAGE_CHARS


def test_success_timeline_lists_each_event_of_the_first_target(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("ECS", plan=succeed_after)

    timeline = DiagnosticsCollector(client, PLENTY).timeline(deployment_id)
    summary = lifecycle_summary(timeline)

    assert summary["targetCount"] == 1
    assert summary["targetId"] == f"{CLUSTER}:{SERVICE}"
    assert [e["name"] for e in summary["events"]] == list(ECS_EVENTS)
    assert {e["status"] for e in summary["events"]} == {"Succeeded"}
    for event in summary["events"]:
        assert event["startedAt"].endswith("Z") and event["endedAt"] > event["startedAt"]
        assert event["durationSeconds"] > 0
    json.dumps(summary)
    assert len(json.dumps(summary)) < 2048


def test_access_denied_leaves_codedeploys_words_and_says_why(client: Any) -> None:
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "list_deployment_targets",
            service_error_code="AccessDeniedException",
            service_message="User is not authorized to perform: codedeploy:ListDeploymentTargets",
        )
        found = DiagnosticsCollector(client, PLENTY).explain("d-ABCDEFGHI")

    assert found.failing_targets == ()
    message = failure_message(_snapshot("d-ABCDEFGHI"), URL, found)
    assert "HEALTH_CONSTRAINTS: The overall deployment failed" in message
    assert (
        "diagnostics unavailable: ListDeploymentTargets failed (AccessDeniedException): "
        "User is not authorized" in message
    )
    assert message.endswith(URL)


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalFailure"])
def test_throttling_and_server_errors_leave_the_failure_intact(client: Any, code: str) -> None:
    with Stubber(client) as stubber:
        stubber.add_response("list_deployment_targets", {"targetIds": ["web:svc"]})
        stubber.add_client_error("batch_get_deployment_targets", service_error_code=code)
        found = DiagnosticsCollector(client, PLENTY).explain("d-ABCDEFGHI")

    assert found.unavailable is not None and code in found.unavailable
    assert found.failing_target_count == 1
    assert "diagnostics unavailable: BatchGetDeploymentTargets failed" in failure_message(
        _snapshot("d-ABCDEFGHI"), URL, found
    )


def test_no_call_starts_without_enough_time(client: Any) -> None:
    collector = DiagnosticsCollector(client, lambda: CALL_RESERVE_SECONDS - 0.5)

    found = collector.explain("d-ABCDEFGHI")
    timeline = collector.timeline("d-ABCDEFGHI")

    assert collector.calls == 0
    assert found.unavailable is not None and found.unavailable.startswith("deadline:")
    assert timeline.unavailable is not None and "not enough for ListDeploymentTargets" in (
        timeline.unavailable
    )


def test_time_running_out_between_the_check_and_the_call_leaves_the_failure_intact(
    client: Any,
) -> None:
    """The collector's own check passes with just enough time; a moment later the client
    ladder finds no retry policy that fits (NoTimeLeft): the collection reports it, it does
    not raise."""
    budgets = iter([CALL_RESERVE_SECONDS, CALL_RESERVE_SECONDS - 0.1])

    def time_left() -> float:  # the same clock for the check and the ladder, as in production
        return next(budgets, 0.0)

    bounded = aws.bounded_codedeploy(time_left)
    found = DiagnosticsCollector(bounded, time_left).explain("d-ABCDEFGHI")

    assert found.unavailable == "deadline: 2.9s left for the call, not enough for " + (
        "ListDeploymentTargets"
    )


def test_collection_stops_when_time_runs_out_midway(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("ECS")
    budget = iter([60.0, CALL_RESERVE_SECONDS - 1])

    found = DiagnosticsCollector(client, lambda: next(budget)).explain(deployment_id)

    assert found.failing_targets == ()
    assert found.failing_target_count == 1  # listed before time ran out
    assert found.unavailable is not None and "BatchGetDeploymentTargets" in found.unavailable


def test_ecs_access_denied_is_reported_beside_codedeploys_diagnostics(
    deploy: Callable[..., str], client: Any, ecs: tuple[Any, Stubber]
) -> None:
    deployment_id = deploy("ECS")
    ecs_client, stubber = ecs
    stubber.add_client_error(
        "describe_services", service_error_code="AccessDeniedException", service_message="no"
    )

    found = DiagnosticsCollector(client, PLENTY, ecs=lambda: ecs_client).explain(deployment_id)

    assert found.unavailable is None
    assert len(found.failing_targets) == 1
    message = failure_message(_snapshot(deployment_id), URL, found)
    assert "AfterAllowTestTraffic Failed" in message
    assert (
        "ECS web-cluster/web-service: details unavailable: DescribeServices failed "
        "(AccessDeniedException)" in message
    )


def test_alarm_stop_names_the_groups_alarms(deploy: Callable[..., str], client: Any) -> None:
    alarms = {"enabled": True, "alarms": [{"name": "web-5xx"}, {"name": "web-latency"}]}
    deployment_id = deploy("ECS", plan=stop_after, group={"alarmConfiguration": alarms})

    found = DiagnosticsCollector(client, PLENTY).explain(
        deployment_id,
        error_code="ALARM_ACTIVE",
        application_name="app-ecs",
        deployment_group_name="group-ecs",
    )

    assert found.alarms == ("web-5xx", "web-latency")
    message = failure_message(_snapshot(deployment_id), URL, found)
    assert "alarms watched by the deployment: web-5xx, web-latency" in message


def test_alarm_override_of_the_deployment_wins(deploy: Callable[..., str], client: Any) -> None:
    override = {"enabled": True, "alarms": [{"name": "canary-errors"}]}
    deployment_id = deploy("ECS", plan=stop_after, overrideAlarmConfiguration=override)

    found = DiagnosticsCollector(client, PLENTY).explain(
        deployment_id, error_code="ALARM_ACTIVE", application_name="app-ecs"
    )

    assert found.alarms == ("canary-errors",)


def test_a_stopped_deployment_has_no_failing_target_to_show(
    deploy: Callable[..., str], client: Any
) -> None:
    deployment_id = deploy("ECS", plan=stop_after)

    found = DiagnosticsCollector(client, PLENTY).explain(deployment_id)

    assert found == Diagnostics()


def test_progress_note_names_the_running_lifecycle_event() -> None:
    running = LifecycleEvent(
        "AllowTestTraffic", "InProgress", "2026-05-09T10:01:00.000Z", None, None, None
    )
    done = LifecycleEvent("Install", "Succeeded", None, None, 3.0, None)
    target = Target("c:s", "ECSTarget", "InProgress", (done, running))

    assert progress_note(Timeline(1, target)) == (
        "ECS service c:s at AllowTestTraffic (InProgress since 2026-05-09T10:01:00.000Z)"
    )
    assert progress_note(Timeline(unavailable="deadline: 3s left")) == (
        "progress unavailable: deadline: 3s left"
    )


# --- the message's size and shape -----------------------------------------------------------


def _huge_target(n: int) -> Target:
    log = "\n".join(f"line {i} " + "x" * 300 + ' "quoted" \t tab \x1b[31m' for i in range(500))
    event = LifecycleEvent(
        "AfterAllowTestTraffic",
        "Failed",
        None,
        None,
        None,
        HookDiagnostics("ScriptFailed", "hook-" + "h" * 5000, "m" * 20_000, log),
    )
    return Target(f"cluster:service-{n}" + "s" * 3000, "ECSTarget", "Failed", (event,))


def test_a_huge_explanation_stays_under_4_kb_and_keeps_head_and_tail() -> None:
    snapshot = DeploymentSnapshot(
        deployment_id="d-ABCDEFGHI",
        status="Failed",
        application_name="app",
        deployment_group_name="group",
        error_information={"code": "HEALTH_CONSTRAINTS", "message": "e" * 50_000},
        rollback_info={"rollbackDeploymentId": "d-ROLLBACK1"},
    )
    task = StoppedTask("t" * 500, "r" * 10_000, "c" * 500, 1, "q" * 10_000)
    found = Diagnostics(
        failing_targets=tuple(_huge_target(n) for n in range(3)),
        failing_target_count=10_000,
        ecs_services=tuple(
            EcsService("cluster", f"svc{n}", (task,) * 3, ("e" * 5000,) * 3) for n in range(3)
        ),
        alarms=tuple("a" * 300 for _ in range(50)),
        unavailable="u" * 10_000,
    )
    rollback = RollbackReport("d-ROLLBACK1", "Succeeded")

    message = failure_message(snapshot, URL, found, rollback)

    assert _printed(message) <= MAX_MESSAGE_CHARS
    assert message.startswith("CodeDeploy deployment d-ABCDEFGHI Failed (app/group) | ")
    assert message.endswith(
        "Rolled back by deployment d-ROLLBACK1: Succeeded, the previous version is serving "
        f"again | Console: {URL}"
    )
    assert "\n" not in message and "\x1b" not in message and "\t" not in message


def test_log_tails_are_cut_to_1_kb_and_say_so() -> None:
    log = "\n".join("y" * 400 for _ in range(5))
    event = LifecycleEvent(
        "ApplicationStart", "Failed", None, None, None, HookDiagnostics(log_tail=log)
    )
    found = Diagnostics((Target("i-1", "InstanceTarget", "Failed", (event,)),), 1)

    message = failure_message(_snapshot("d-ABCDEFGHI"), URL, found)

    tail = message.split(f"log tail (cut to its last {LOG_TAIL_BYTES} bytes): ...", 1)[1]
    # The last 1024 bytes: the end of the third line, then the fourth and the fifth.
    assert tail.split(" | ")[0] == "y" * (LOG_TAIL_BYTES - 808) + (" // " + "y" * 400) * 2


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (RollbackReport("d-R", "Succeeded"), "d-R: Succeeded, the previous version"),
        (RollbackReport("d-R", "Failed"), "d-R: Failed, the previous version may NOT"),
        (
            RollbackReport("d-R", "InProgress", note="deadline"),
            "d-R: still InProgress when the function had to answer (deadline)",
        ),
    ],
)
def test_the_rollback_outcome_is_said(report: RollbackReport, expected: str) -> None:
    assert expected in failure_message(_snapshot("d-ABCDEFGHI"), URL, None, report)


def _snapshot(deployment_id: str) -> DeploymentSnapshot:
    return DeploymentSnapshot(
        deployment_id=deployment_id,
        status="Failed",
        application_name="app",
        deployment_group_name="group",
        error_information={
            "code": "HEALTH_CONSTRAINTS",
            "message": "The overall deployment failed because too many individual instances "
            "failed deployment.",
        },
    )


def _printed(message: str) -> int:
    return len(json.dumps(message))
