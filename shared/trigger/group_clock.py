"""The deployment group's own clock: how long CodeDeploy itself may keep a deployment going.

Before waiting, the trigger reads the deployment's own settings from GetDeployment (the
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
waits as they were at creation), so a group changed since does not skew it, and it costs no
call of its own when the wait has just read GetDeployment: attaching to a deployment
(attach, continue, stop, a replayed request) looks at it at once, and that answer serves.
Only a deployment this invocation has just created (or adopted after an ambiguous
CreateDeployment) is not looked at before the first pause; the clock then reads
GetDeployment itself, one call, where GetDeploymentGroup used to be.

Reading the clock must never fail the deployment: denied (the role lacks
codedeploy:GetDeployment or codedeploy:GetDeploymentConfig), throttled or out of time, the
clock is left out and a warning says why. Nor may it eat the wait: its own calls get at most
:data:`GROUP_CLOCK_BUDGET_SHARE` of the wait budget and :data:`GROUP_CLOCK_MAX_SECONDS`
(a CodeDeploy that trickles its answers costs the wait that little), and it is read before
the first pause only, so attaching to a deployment that has ended costs one look, as before.

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
from shared.deadline import NoTimeLeft
from shared.errors import CodeDeployError
from shared.observability import logger
from shared.report.messages import group_clock_note
from shared.status import TRAFFIC_SHIFTED
from shared.trigger.invocation import Invocation

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


def read_group_clock(
    inv: Invocation, deployment_id: str, seen: DeploymentSnapshot | None = None
) -> GroupClock | None:
    """The group's clock for this deployment, logged; None (and a warning) when the
    deployment or its configuration cannot be read. ``seen``: the wait's own GetDeployment
    answer, if it made one (then no GetDeployment of its own). Warns at the start when the
    invocation cannot cover it with ``onDeadline: "fail"``; the sentence is kept for the
    timeout's message."""
    try:
        deployment, config = _read(inv, deployment_id, seen)
    except (CodeDeployError, NoTimeLeft) as error:
        logger.warning(
            "could not read the deployment group's clock; waiting without it",
            extra={"reason": str(error)[:500]},
        )
        return None
    wait_until = inv.options.wait_until
    clock = compute_group_clock(deployment, config, wait_until)
    logger.info(
        "group clock",
        extra={
            "groupClock": clock.as_result(),
            "waitUntil": wait_until,
            "deploymentConfigName": None if config is None else config.deployment_config_name,
        },
    )
    available = inv.deadline.wait_budget()
    if inv.options.on_deadline == "fail" and clock.longest_minutes * 60 > available:
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


def _read(
    inv: Invocation, deployment_id: str, seen: DeploymentSnapshot | None
) -> tuple[DeploymentSnapshot, DeploymentConfigSettings | None]:
    gateway = inv.codedeploy_brief
    deployment = seen if seen is not None else gateway.get(deployment_id)
    # DeploymentInfo's deploymentConfigName is the one CodeDeploy resolved for this
    # deployment: CreateDeployment's, else the group's (API reference).
    config_name = deployment.deployment_config_name
    if deployment.compute_platform not in _TRAFFIC_ROUTED_PLATFORMS or not config_name:
        return deployment, None
    return deployment, gateway.get_deployment_config(config_name)
