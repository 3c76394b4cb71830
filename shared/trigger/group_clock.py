"""The deployment group's own clock: how long CodeDeploy itself may keep a deployment going.

While waiting, the trigger reads the deployment's own settings from GetDeployment (the
botocore model's DeploymentInfo: ``computePlatform``, ``deploymentStyle``,
``deploymentConfigName`` and ``blueGreenDeploymentConfiguration``, "blue/green deployment
options for this deployment") and, for ECS and Lambda, its configuration
(GetDeploymentConfig, for a custom one only: shared/adapters/codedeploy.py knows the
predefined ones), and adds up the waits they set, in minutes (CodeDeploy API reference):

- ``readyWaitMinutes``: DeploymentReadyOption ``waitTimeInMinutes`` with STOP_DEPLOYMENT (a
  blue/green deployment waits in Ready that long for ContinueDeployment, then is Stopped);
  CONTINUE_DEPLOYMENT reroutes traffic at once: 0.
- ``trafficRoutingMinutes``: TrafficRoutingConfig. TimeBasedCanary shifts "in two increments"
  ``canaryInterval`` minutes apart; TimeBasedLinear "in equal increments, with an equal
  number of minutes between each increment": ceil(100 / linearPercentage) increments, one
  ``linearInterval`` fewer gaps; AllAtOnce, or EC2/on-premises (no trafficRoutingConfig): 0.
- ``terminationWaitMinutes``: BlueInstanceTerminationOption ``terminationWaitTimeInMinutes``
  with TERMINATE (at most 2880): the original environment is kept that long after all
  traffic has moved, and the deployment stays InProgress. KEEP_ALIVE, or Lambda (the option
  "does not apply to Lambda deployments"): 0.
- ``longestMinutes``: those the deployment goes through before what ``waitUntil`` asks: all
  three for Succeeded; without the termination wait for TrafficShifted; none for Ready when
  the deployment stops at Ready (STOP_DEPLOYMENT), else as for Succeeded (it meets Ready at
  Succeeded). Installing, hooks and health checks come on top: this is the group's share.

DeploymentInfo holds what CodeDeploy set up for this very deployment (the configuration
CreateDeployment's ``deploymentConfigName`` chose, else the group's; the group's blue/green
waits as they were at creation), so a group changed since does not skew it, and any of the
wait's GetDeployment answers will do: the clock is read from the first one, whichever look
made it, and costs no GetDeployment of its own. Attaching to a deployment (attach, continue,
stop, a replayed request) looks at it at once. A deployment this invocation has just created
(or adopted after an ambiguous CreateDeployment) is Created, so the wait's first
GetDeployment comes later: the safety-net poll, ``FALLBACK_POLL_INTERVAL_SECONDS`` (60 s)
with a status table, or the poll every ``POLL_INTERVAL_SECONDS`` (15 s) without one or while
waiting for TrafficShifted, or sooner, the read that confirms an end the table shows. The
``group clock`` log line and the warning come then, not at the start: one CodeDeploy call
fewer per deployment. A wait that reaches its deadline before any GetDeployment (a wait
budget shorter than that first interval) has no clock to say, unless the hand-over's last
look (``onDeadline: "return"``) brings one.

Reading the clock must never fail the deployment: denied (the role lacks
codedeploy:GetDeploymentConfig), throttled or out of time, the clock is left out and a
warning says why. Nor may it eat the wait: its own call (GetDeploymentConfig, for a custom
configuration on ECS or Lambda) gets at most :data:`GROUP_CLOCK_BUDGET_SHARE` of the wait
budget and :data:`GROUP_CLOCK_MAX_SECONDS` (a CodeDeploy that trickles its answers costs the
wait that little), and it is read once per invocation.

The same sums are what the AWS CLI's ``aws ecs deploy`` adds to its timeout (aws-cli pull
request 3805: the ready and termination wait times plus a buffer).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from shared.adapters.codedeploy import (
    BlueGreenWaits,
    DeploymentConfigSettings,
    DeploymentSnapshot,
)
from shared.observability import logger
from shared.report.messages import group_clock_note
from shared.status import TRAFFIC_SHIFTED
from shared.trigger.invocation import Invocation
from shared.trigger.margin import CallFailure, best_effort

GROUP_CLOCK_MAX_SECONDS = 10.0
GROUP_CLOCK_BUDGET_SHARE = 0.1


def group_clock_budget(wait_budget_seconds: float) -> float:
    """Seconds one call reading the group's clock may take (shared/adapters/clients.py picks
    the most patient client that fits; none fits a budget under 3 s: the clock is skipped)."""
    return min(GROUP_CLOCK_MAX_SECONDS, GROUP_CLOCK_BUDGET_SHARE * wait_budget_seconds)


_TRAFFIC_ROUTED_PLATFORMS = frozenset({"ECS", "Lambda"})
"""TrafficRoutingConfig is "used for deployments with a Lambda or Amazon ECS compute
platform only" (API reference): no GetDeploymentConfig for EC2/on-premises."""


class GroupClock(NamedTuple):
    """The group's waits for this deployment, in whole minutes."""

    ready_wait_minutes: int
    traffic_routing_minutes: int
    termination_wait_minutes: int
    longest_minutes: int

    def as_result(self) -> dict[str, int]:
        """``groupClock`` of the result (and of the log line)."""
        return {
            "readyWaitMinutes": self.ready_wait_minutes,
            "trafficRoutingMinutes": self.traffic_routing_minutes,
            "terminationWaitMinutes": self.termination_wait_minutes,
            "longestMinutes": self.longest_minutes,
        }

    def minutes_until(self, wait_until: str) -> int:
        """The group's waits before ``wait_until`` is met (see the module's docstring)."""
        if wait_until == "Ready" and self.ready_wait_minutes > 0:
            return 0
        if wait_until == TRAFFIC_SHIFTED:
            return self.ready_wait_minutes + self.traffic_routing_minutes
        return (
            self.ready_wait_minutes + self.traffic_routing_minutes + self.termination_wait_minutes
        )


def traffic_routing_minutes(config: DeploymentConfigSettings | None) -> int:
    """Minutes from the first traffic shift to the last (0: all at once)."""
    if config is None:
        return 0
    if config.traffic_routing_type == "TimeBasedCanary":
        return config.interval_minutes
    if config.traffic_routing_type == "TimeBasedLinear" and config.percentage > 0:
        increments = math.ceil(100 / min(config.percentage, 100))
        return (increments - 1) * config.interval_minutes
    return 0


def compute_group_clock(
    deployment: DeploymentSnapshot, config: DeploymentConfigSettings | None, wait_until: str
) -> GroupClock:
    """The clock of ``deployment`` (what GetDeployment said) under ``config``."""
    waits = deployment.blue_green_waits or BlueGreenWaits()
    if deployment.deployment_type != "BLUE_GREEN" or deployment.compute_platform == "Lambda":
        # In place: no Ready gate, no original environment; Lambda: neither option applies.
        waits = BlueGreenWaits()
    ready = waits.ready_wait_minutes if waits.ready_action == "STOP_DEPLOYMENT" else 0
    terminate = waits.termination_action == "TERMINATE"
    termination = waits.termination_wait_minutes if terminate else 0
    clock = GroupClock(ready, traffic_routing_minutes(config), termination, 0)
    return GroupClock(
        ready, clock.traffic_routing_minutes, termination, clock.minutes_until(wait_until)
    )


def clock_from_answer(inv: Invocation, answer: DeploymentSnapshot, *, waiting: bool) -> None:
    """The group's clock from ``answer``, the wait's first GetDeployment answer, once per
    invocation (a later answer says the same: CodeDeploy set these up at creation); kept
    for the result (``groupClock``) and, while ``waiting``, for the timeout's message."""
    progress = inv.progress
    if progress.group_clock_read:
        return
    progress.group_clock_read = True
    clock = read_group_clock(inv, answer, waiting=waiting)
    progress.group_clock = None if clock is None else clock.as_result()


def read_group_clock(
    inv: Invocation, answer: DeploymentSnapshot, *, waiting: bool
) -> GroupClock | None:
    """The group's clock for the deployment GetDeployment answered about, logged; None (and
    a warning) when its configuration cannot be read. While ``waiting`` (the wait goes on),
    warns when the invocation cannot cover it with ``onDeadline: "fail"``; the sentence is
    kept for the timeout's message. Once the wait is over the warning would say nothing."""
    config = best_effort(lambda: _read_config(inv, answer))
    if isinstance(config, CallFailure):
        logger.warning(
            "could not read the deployment group's clock; waiting without it",
            extra={"reason": str(config)[:500]},
        )
        return None
    wait_until = inv.options.wait_until
    clock = compute_group_clock(answer, config, wait_until)
    logger.info(
        "group clock",
        extra={
            "groupClock": clock.as_result(),
            "waitUntil": wait_until,
            "deploymentConfigName": None if config is None else config.deployment_config_name,
        },
    )
    if not waiting or inv.options.on_deadline != "fail":
        return clock
    available = _wait_budget_at_start(inv)
    if clock.longest_minutes * 60 > available:
        note = group_clock_note(
            longest_minutes=clock.longest_minutes,
            ready_wait_minutes=clock.ready_wait_minutes,
            traffic_routing_minutes=clock.traffic_routing_minutes,
            termination_wait_minutes=clock.termination_wait_minutes,
            traffic_shifted_minutes=clock.minutes_until(TRAFFIC_SHIFTED),
            wait_until=wait_until,
            available_seconds=available,
        )
        inv.progress.group_clock_note = note
        logger.warning("the invocation cannot cover the group's clock", extra={"note": note})
    return clock


def _wait_budget_at_start(inv: Invocation) -> float:
    """What the wait could take when it began: the group's clock runs from the deployment's
    start, so the seconds spent before the first GetDeployment count for both."""
    started = inv.progress.wait_started
    waited = 0.0 if started is None else max(0.0, inv.clock.monotonic() - started)
    return inv.deadline.wait_budget() + waited


def _read_config(
    inv: Invocation, deployment: DeploymentSnapshot
) -> DeploymentConfigSettings | None:
    # DeploymentInfo's deploymentConfigName is the one CodeDeploy resolved for this
    # deployment: CreateDeployment's, else the group's (API reference).
    config_name = deployment.deployment_config_name
    if deployment.compute_platform not in _TRAFFIC_ROUTED_PLATFORMS or not config_name:
        return None
    return inv.codedeploy_brief.get_deployment_config(config_name)
