"""One invocation of the trigger: what every step reads, and how far the run got.

:class:`Invocation` is made per invocation by :mod:`shared.trigger.dispatch` and passed to
each step (start, create, wait, finish), so no state of one invocation can leak into the
next. Its parts are fixed for the invocation; only :class:`RunProgress` and the table's
health change as the run goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from shared.adapters.codedeploy import CodeDeployGateway
from shared.config import Settings
from shared.contract.request import CreateRequest, DeploymentRequest, WaitOptions
from shared.deadline import Deadline
from shared.trigger.clock import Clock
from shared.trigger.table_health import TableHealth
from shared.trigger.waiter import DeploymentWaiter, WaitOutcome

if TYPE_CHECKING:
    from shared.adapters.diagnostics import Diagnostics, DiagnosticsCollector


# eq=False: these hold the state of one invocation (its clients, its progress); two of them
# are never compared by value, and the comparison methods would only cost import time.
@dataclass(eq=False)
class RunProgress:
    """How far one invocation got: what an answer is built from when the watchdog
    interrupts a call (shared/trigger/watchdog.py). Set as the run goes, never cleared by an
    exception, so that an interrupted call leaves what was known."""

    deployment_id: str | None = None
    """Ours, created or attached; set as soon as CreateDeployment returns it."""
    just_created: bool = False
    create_since: datetime | None = None
    """Set when a CreateDeployment may be in flight (cleared once it returned an id)."""
    active_deployment_id: str | None = None
    """The group's deployment being waited for (``onActiveDeployment: "wait"``)."""
    waiter: DeploymentWaiter | None = None
    wait_started: float | None = None
    outcome: WaitOutcome | None = None
    """How the wait ended, once it did."""
    diagnostics: Diagnostics | None = None
    stop_said: str | None = None
    final_phase: bool = False
    """The work inside the margin (last look, StopDeployment, diagnostics) has begun."""
    group_clock: dict[str, int] | None = None
    """``groupClock`` of the result: the group's own waits, when the group could be read."""
    group_clock_read: bool = False
    """The group's clock was read (or tried) from a GetDeployment answer: once per invocation."""
    group_clock_note: str | None = None
    """Said with the wait's first GetDeployment answer when the invocation cannot cover the
    group's clock; repeated by a timeout's message."""
    replay_reason: str | None = None
    """Why the deployment returned is an identical request's earlier one; None when this
    invocation created it or was asked to attach to it."""


@dataclass(frozen=True, eq=False)
class RunClients:
    """``codedeploy`` calls end before the deadline margin; ``codedeploy_final`` may use it."""

    codedeploy: CodeDeployGateway
    codedeploy_final: CodeDeployGateway
    make_diagnostics: Callable[[], DiagnosticsCollector]
    codedeploy_brief: CodeDeployGateway | None = None
    """For look-ups the wait can do without (the group's clock): a small share of the wait
    budget (shared/trigger/group_clock.py); None: ``codedeploy``."""

    @cached_property
    def diagnostics(self) -> DiagnosticsCollector:
        """Built when the wait is over: the collector's module is a cold-start cost that an
        invocation which never explains or summarises a deployment should not pay."""
        return self.make_diagnostics()


class Invocation(NamedTuple):
    """Request, settings, deadline, clock, clients and table health of one invocation."""

    request: DeploymentRequest
    settings: Settings
    deadline: Deadline
    clients: RunClients
    health: TableHealth
    clock: Clock
    progress: RunProgress
    """What the run has learnt so far: this invocation's own (the one mutable part)."""
    on_final_phase: Callable[[], None] = lambda: None

    @property
    def options(self) -> WaitOptions:
        return self.request.wait_options

    @property
    def codedeploy(self) -> CodeDeployGateway:
        return self.clients.codedeploy

    @property
    def codedeploy_brief(self) -> CodeDeployGateway:
        return self.clients.codedeploy_brief or self.clients.codedeploy

    @property
    def retry_attaches(self) -> bool:
        """Whether an identical request sent again finds this deployment: an attach always
        names the deployment; a create finds it only through its idempotency record, which lives in
        the status table. Without the table it would meet it as the group's active deployment."""
        return (
            not isinstance(self.request, CreateRequest)
            or self.settings.status_table_name is not None
        )

    def enter_final_phase(self) -> None:
        """From here on calls may use the margin: the watchdog moves to its last point."""
        if not self.progress.final_phase:
            self.progress.final_phase = True
            self.on_final_phase()

    def pause(self, seconds: float, cause: Exception) -> None:
        """Sleep before a retry, or raise ``cause`` if the deadline does not allow it."""
        if not self.deadline.allows(seconds):
            raise cause
        self.clock.sleep(seconds)
