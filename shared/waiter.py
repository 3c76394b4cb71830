"""The waiting strategy: watch a deployment until it ends, cheaply and within the deadline.

With a status table the waiter reads the item every ``STATUS_READ_INTERVAL_SECONDS``
(events written by the recorder make the end visible within about a second) and
keeps a GetDeployment safety net every ``FALLBACK_POLL_INTERVAL_SECONDS``,
because EventBridge delivery is best effort. Once events are seen flowing for
the deployment, the safety net backs off (doubling up to
``FALLBACK_POLL_MAX_INTERVAL_SECONDS``): the pipeline has proved itself, so most
polls would be wasted. Without a usable table it polls GetDeployment every
``POLL_INTERVAL_SECONDS``. Whatever the path, it never sleeps into the last
``DEADLINE_MARGIN_SECONDS`` of the invocation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from shared.codedeploy import CodeDeployGateway, DeploymentSnapshot
from shared.config import Settings
from shared.observability import logger
from shared.status import is_terminal
from shared.status_store import StatusRecord, StatusStore, StatusUpdate, StoreUnavailable

DetectedBy = Literal["event", "poll"]
# Clocks are not infinitely fine (freezegun keeps microseconds): never sleep for
# less than this, or a rounding residue could spin the loop without time passing.
MIN_PAUSE_SECONDS = 0.001


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def monotonic_clock() -> float:
    # Looked up at call time so that freezegun's patched clock is honoured.
    return time.monotonic()


def real_sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass(frozen=True)
class WaitOutcome:
    snapshot: DeploymentSnapshot
    detected_by: DetectedBy
    waited_seconds: float


class WaitDeadlineReached(Exception):
    """Raised before a sleep that would run into the deadline margin."""

    def __init__(self, deployment_id: str, last_status: str, remaining_seconds: float) -> None:
        super().__init__(deployment_id, last_status)
        self.deployment_id = deployment_id
        self.last_status = last_status
        self.remaining_seconds = remaining_seconds


class Deadline:
    """Time left in this invocation, from the Lambda context (unbounded without one)."""

    def __init__(self, context: LambdaContextLike | None) -> None:
        self._context = context

    def remaining_seconds(self) -> float:
        if self._context is None:
            return math.inf
        return self._context.get_remaining_time_in_millis() / 1000


@dataclass
class _Schedule:
    next_read: float
    next_poll: float
    poll_interval: float
    events_seen: bool = False


class DeploymentWaiter:
    """Waits for one deployment to reach Succeeded, Failed or Stopped."""

    def __init__(
        self,
        codedeploy: CodeDeployGateway,
        store: StatusStore | None,
        settings: Settings,
        *,
        clock: Callable[[], float] = monotonic_clock,
        sleep: Callable[[float], None] = real_sleep,
    ) -> None:
        self._codedeploy = codedeploy
        self._store = store
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._last_status: str | None = None

    @property
    def store(self) -> StatusStore | None:
        return self._store

    @property
    def poll_interval(self) -> float:
        return self._settings.poll_interval

    @property
    def deadline_margin(self) -> float:
        return self._settings.deadline_margin

    def disable_store(self, error: StoreUnavailable) -> None:
        """Stop using the table for this invocation (logged once, by the caller's error)."""
        logger.warning(
            "status table unavailable; polling GetDeployment instead, without duplicate protection",
            extra={"reason": str(error), "pollIntervalSeconds": self._settings.poll_interval},
        )
        self._store = None

    def wait(self, deployment_id: str, deadline: Deadline, *, just_created: bool) -> WaitOutcome:
        """Wait for the end; ``just_created``: this invocation's CreateDeployment made it."""
        started = self._clock()
        self._last_status = "Created" if just_created else None
        schedule = self._initial_schedule(started, just_created=just_created)
        while True:
            now = self._clock()
            outcome = self._look(deployment_id, schedule, now)
            if outcome is not None:
                snapshot, detected_by = outcome
                return WaitOutcome(snapshot, detected_by, self._clock() - started)
            pause = max(MIN_PAUSE_SECONDS, self._next_wake(schedule) - self._clock())
            remaining = deadline.remaining_seconds()
            if remaining < self._settings.deadline_margin + pause:
                last = self._last_status or "not seen yet"
                raise WaitDeadlineReached(deployment_id, last, remaining)
            self._sleep(pause)

    def _initial_schedule(self, now: float, *, just_created: bool) -> _Schedule:
        if self._store is None:
            # Right after CreateDeployment the answer is known (Created); an attached
            # deployment may have ended already, so look at once.
            interval = self._settings.poll_interval
            first = now + interval if just_created else now
            return _Schedule(next_read=math.inf, next_poll=first, poll_interval=interval)
        interval = self._settings.fallback_poll_interval
        return _Schedule(next_read=now, next_poll=now + interval, poll_interval=interval)

    def _next_wake(self, schedule: _Schedule) -> float:
        return min(schedule.next_read, schedule.next_poll)

    def _look(
        self, deployment_id: str, schedule: _Schedule, now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        # Due within the clock's granularity counts as due (see MIN_PAUSE_SECONDS).
        due = now + MIN_PAUSE_SECONDS
        if due >= schedule.next_read:
            found = self._read_store(deployment_id, schedule, now)
            if found is not None:
                return found
        if due >= schedule.next_poll:
            return self._poll(deployment_id, schedule, now)
        return None

    def _read_store(
        self, deployment_id: str, schedule: _Schedule, now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        assert self._store is not None
        try:
            record = self._store.get(deployment_id)
        except StoreUnavailable as error:
            self._degrade(schedule, now, error)
            return None
        schedule.next_read = now + self._settings.status_read_interval
        if record is None:
            return None
        self._observe(record.status, record.source)
        schedule.events_seen |= record.source == "event" or record.event_state is not None
        if not is_terminal(record.status):
            return None
        detected_by: DetectedBy = "event" if record.source == "event" else "poll"
        return self._fill_in(deployment_id, record), detected_by

    def _poll(
        self, deployment_id: str, schedule: _Schedule, now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        snapshot = self._codedeploy.get(deployment_id)
        if self._store is not None and schedule.events_seen:
            # Events flow for this deployment: the safety net can stretch, up to its cap.
            schedule.poll_interval = min(
                schedule.poll_interval * 2, self._settings.fallback_poll_max_interval
            )
        schedule.next_poll = now + schedule.poll_interval
        self._observe(snapshot.status, "api")
        if self._store is not None:
            self._write_back(snapshot, schedule, now)
        return (snapshot, "poll") if snapshot.is_terminal else None

    def _write_back(self, snapshot: DeploymentSnapshot, schedule: _Schedule, now: float) -> None:
        """Share what a poll learned, so other readers need not poll too."""
        assert self._store is not None
        try:
            self._store.record(
                StatusUpdate(
                    deployment_id=snapshot.deployment_id,
                    status=snapshot.status,
                    source="api",
                    application_name=snapshot.application_name,
                    deployment_group_name=snapshot.deployment_group_name,
                    created_at=snapshot.created_at,
                    completed_at=snapshot.completed_at,
                )
            )
        except StoreUnavailable as error:
            self._degrade(schedule, now, error)

    def _fill_in(self, deployment_id: str, record: StatusRecord) -> DeploymentSnapshot:
        """One GetDeployment for completeTime, errorInformation and rollbackInfo."""
        snapshot = self._codedeploy.get(deployment_id)
        if snapshot.is_terminal:
            return snapshot
        # The event is ahead of the API's view (rare): trust the terminal event.
        logger.warning(
            "status table shows a terminal status GetDeployment does not show yet",
            extra={"tableStatus": record.status, "apiStatus": snapshot.status},
        )
        return replace(
            snapshot,
            status=record.status,
            completed_at=snapshot.completed_at or record.completed_at,
        )

    def _degrade(self, schedule: _Schedule, now: float, error: StoreUnavailable) -> None:
        self.disable_store(error)
        schedule.next_read = math.inf
        schedule.poll_interval = self._settings.poll_interval
        schedule.next_poll = min(schedule.next_poll, now + self._settings.poll_interval)

    def _observe(self, status: str, source: str) -> None:
        if status != self._last_status:
            logger.info(
                "deployment status changed",
                extra={"status": status, "previousStatus": self._last_status, "seenVia": source},
            )
            self._last_status = status
