"""The deployment status vocabulary: one home for names, order and events.

Both Lambda functions write to the same status table, so they must agree on
what a status means and which one may follow which. Keeping the order here
(and nowhere else) is what makes the table's writes monotonic whichever
function, event or poll writes first.
"""

from __future__ import annotations

from enum import StrEnum


class DeploymentStatus(StrEnum):
    """CodeDeploy's ``deploymentInfo.status`` values, spelled as CodeDeploy does."""

    CREATED = "Created"
    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    BAKING = "Baking"
    READY = "Ready"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"


TERMINAL_STATUSES: frozenset[str] = frozenset(
    {DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.STOPPED}
)
"""Only these end a deployment; ``Ready`` still waits for ContinueDeployment."""

UNSUCCESSFUL_STATUSES: frozenset[str] = frozenset(
    {DeploymentStatus.FAILED, DeploymentStatus.STOPPED}
)

TRAFFIC_SHIFTED = "TrafficShifted"
"""The milestone no status names: production traffic is on the replacement and the original
environment waits for the group's termination wait (GetDeployment's
``instanceTerminationWaitTimeStarted``, in DeploymentInfo only: no status, no event)."""

MILESTONES: dict[str, frozenset[str]] = {
    "Succeeded": frozenset({DeploymentStatus.SUCCEEDED}),
    "Ready": frozenset({DeploymentStatus.READY, DeploymentStatus.SUCCEEDED}),
    TRAFFIC_SHIFTED: frozenset({DeploymentStatus.SUCCEEDED}),
}
"""``waitUntil`` value -> the statuses that meet it. ``Ready``: a blue/green replacement is
ready for traffic (CodeDeploy waits for ContinueDeployment or the group's wait time); a
deployment that never stops at Ready meets it at Succeeded. ``TrafficShifted``: met before
any status by ``instanceTerminationWaitTimeStarted`` (blue/green with TERMINATE), else at
Succeeded (every other kind of deployment). Failed and Stopped meet none."""

# Baking and Ready share a rank: both mean "new version serving, not yet done",
# and CodeDeploy's events cannot tell them apart reliably. Ready -> InProgress
# after ContinueDeployment is deliberately a step back we never record: the next
# state is terminal anyway.
_RANK: dict[str, int] = {
    DeploymentStatus.CREATED: 0,
    DeploymentStatus.QUEUED: 1,
    DeploymentStatus.IN_PROGRESS: 2,
    DeploymentStatus.BAKING: 3,
    DeploymentStatus.READY: 3,
    DeploymentStatus.SUCCEEDED: 4,
    DeploymentStatus.FAILED: 4,
    DeploymentStatus.STOPPED: 4,
}

EVENT_STATE_TO_STATUS: dict[str, DeploymentStatus] = {
    "START": DeploymentStatus.IN_PROGRESS,
    "READY": DeploymentStatus.READY,
    "SUCCESS": DeploymentStatus.SUCCEEDED,
    "FAILURE": DeploymentStatus.FAILED,
    "STOP": DeploymentStatus.STOPPED,
}
"""EventBridge ``detail.state`` to status. Created, Queued and Baking have no event."""


def is_known(status: str) -> bool:
    """True for a status this version understands (CodeDeploy may add more)."""
    return status in _RANK


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


def milestone_met(
    status: str, wait_until: str, *, termination_wait_started: bool = False
) -> str | None:
    """The milestone a deployment meets for a caller waiting until ``wait_until``, else None:
    the status that meets it, or ``TrafficShifted`` while a deployment still running has
    started the termination wait of its original environment."""
    if status in MILESTONES[wait_until]:
        return status
    if wait_until == TRAFFIC_SHIFTED and termination_wait_started and not is_terminal(status):
        return TRAFFIC_SHIFTED
    return None


def rank(status: str) -> int:
    """Position of ``status`` in the lifecycle; raises ``KeyError`` when unknown."""
    return _RANK[status]


def statuses_below(status: str) -> list[str]:
    """Statuses that ``status`` may overwrite, sorted for stable request bodies.

    The store's conditional write lists them (``#status IN (...)``), so the
    database itself enforces the order under concurrent writers.
    """
    limit = rank(status)
    return sorted(name for name, position in _RANK.items() if position < limit)
