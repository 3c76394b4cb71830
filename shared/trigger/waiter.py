"""The waiting strategy: watch a deployment until it ends (or reaches a milestone), cheaply
and within the deadline.

Modelled on botocore's waiters: the policy is data (:class:`WaitPolicy`) and the
loop is small. With a status table the waiter reads the item at the pace of the read
cadence (shared/trigger/read_cadence.py: every 0.1 s near the group's usual end, up to 4 s
while it is far, every ``STATUS_READ_INTERVAL_SECONDS`` without history; events
written by the recorder make the end visible that soon) and keeps a GetDeployment safety net every
``FALLBACK_POLL_INTERVAL_SECONDS``, because EventBridge delivery is best effort.
Once events are seen flowing for the deployment, the safety net backs off
(doubling up to ``FALLBACK_POLL_MAX_INTERVAL_SECONDS``): the pipeline has proved
itself, so most polls would be wasted. Without a usable table it polls
GetDeployment every ``POLL_INTERVAL_SECONDS``. Whatever the path, it never
sleeps, nor calls AWS, into the deadline margin.

Waiting for ``TrafficShifted`` adds one thing no event can say: DeploymentInfo's
``instanceTerminationWaitTimeStarted`` (no status, no state-change event: the deployment
stays InProgress). While such a wait lasts, GetDeployment is read every
``POLL_INTERVAL_SECONDS`` (15 s by default, the delay of botocore's own CodeDeploy waiter,
``deployment_successful`` in codedeploy/2014-10-06/waiters-2.json) and the safety net never
backs off: the flag turns true minutes into a deployment and stays so for the group's whole
termination wait (up to 2880 minutes), so 15 s is a small share of the time it saves, and 4
reads a minute are far from CodeDeploy's unpublished rate limits. The status table still
shows an end (a failure, a stop) within its read cadence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from shared.adapters.codedeploy import CodeDeployGateway, DeploymentSnapshot
from shared.adapters.status_store import StatusRecord, StatusStore, StatusUpdate, StoreUnavailable
from shared.config import Settings
from shared.deadline import Deadline, NoTimeLeft
from shared.observability import logger
from shared.status import DeploymentStatus, is_known, is_terminal, rank
from shared.timestamps import seconds_between
from shared.trigger.clock import SYSTEM_CLOCK, Clock
from shared.trigger.read_cadence import ReadCadence, WaitFacts, next_read_interval
from shared.trigger.table_health import TableHealth

DetectedBy = Literal["event", "poll"]
# Clocks are not infinitely fine (freezegun keeps microseconds): never sleep for
# less than this, or a rounding residue could spin the loop without time passing.
MIN_PAUSE_SECONDS = 0.001
RECENT_DEPLOYMENTS = 6
"""The group's latest deployments the read cadence looks at (this one among them)."""


StatusExplainer = Callable[[str, str], Mapping[str, str]]
"""What a caller needs to know about a status just seen (deployment id, status): extra log
fields. The text is the caller's (shared/report/messages.py); the waiter only passes it on."""


class WaitPolicy(NamedTuple):
    """How often to look, by which path: the waiter's whole configuration."""

    read_cadence: ReadCadence
    fallback_poll_interval: float
    fallback_poll_max_interval: float
    poll_interval: float

    @classmethod
    def from_settings(cls, settings: Settings) -> WaitPolicy:
        return cls(
            read_cadence=ReadCadence.from_settings(settings),
            fallback_poll_interval=settings.fallback_poll_interval,
            fallback_poll_max_interval=settings.fallback_poll_max_interval,
            poll_interval=settings.poll_interval,
        )


class WaitOutcome(NamedTuple):
    """How a wait ended: the deployment as last seen, what saw it, and how long it took."""

    snapshot: DeploymentSnapshot
    detected_by: DetectedBy
    waited_seconds: float


class WaitDeadlineReached(Exception):
    """Raised before a sleep or a call that would run into the deadline margin."""

    def __init__(self, deployment_id: str, last_status: str, remaining_seconds: float) -> None:
        super().__init__(deployment_id, last_status)
        self.deployment_id = deployment_id
        self.last_status = last_status
        self.remaining_seconds = remaining_seconds


@dataclass(eq=False)  # the waiter's own state, never compared
class _Schedule:
    """When the next table read and the next GetDeployment are due (monotonic seconds)."""

    next_read: float
    next_poll: float
    poll_interval: float
    events_seen: bool = False
    started: float = 0.0
    traffic_shifted: bool = False
    """Also ends at ``instanceTerminationWaitTimeStarted`` (waitUntil TrafficShifted)."""
    recent_durations: tuple[float, ...] | None = None
    """The group's recent durations for the read cadence: None until looked up, () when
    not wanted (only a deployment this wait created has a known age)."""
    distrust_until: float = -math.inf
    """Until then (the next safety-net poll) a status read from the table ends nothing:
    the table has just contradicted CodeDeploy for this deployment."""

    def distrust_table(self, policy: WaitPolicy, now: float) -> None:
        """The table showed an end GetDeployment did not confirm: keep waiting.

        Until the next safety-net poll (brought forward to ``POLL_INTERVAL_SECONDS`` at
        most) the table ends nothing: that poll decides. A real event that was merely
        ahead of the API's view costs that much time; a forged one costs nothing more,
        and cannot make the trigger call GetDeployment at the pace of table reads.
        """
        self.events_seen = False
        self.poll_interval = self.first_poll_interval(policy)
        self.next_poll = min(self.next_poll, now + policy.poll_interval)
        self.distrust_until = self.next_poll + MIN_PAUSE_SECONDS

    def first_poll_interval(self, policy: WaitPolicy) -> float:
        """The safety net's interval before events are seen (and for good while waiting for
        TrafficShifted, which only GetDeployment can show)."""
        if self.traffic_shifted:
            return min(policy.fallback_poll_interval, policy.poll_interval)
        return policy.fallback_poll_interval

    def met(self, snapshot: DeploymentSnapshot, targets: frozenset[str]) -> bool:
        """Whether a GetDeployment answer ends the wait."""
        if snapshot.status in targets:
            return True
        return (
            self.traffic_shifted
            and snapshot.instance_termination_wait_started
            and not is_terminal(snapshot.status)
        )


class DeploymentWaiter:
    """Waits for one deployment to end, or to reach one of the given milestones."""

    def __init__(
        self,
        poller: CodeDeployGateway,
        health: TableHealth,
        policy: WaitPolicy,
        *,
        clock: Clock = SYSTEM_CLOCK,
        explain_status: StatusExplainer = lambda _deployment_id, _status: {},
    ) -> None:
        self._poller = poller
        self._explain_status = explain_status
        self._health = health
        self._policy = policy
        self._clock = clock
        self._last_status: str | None = None
        self._last_answer: DeploymentSnapshot | None = None

    @property
    def _store(self) -> StatusStore | None:
        # Asked each time: the table may be lost by any step of the invocation.
        return self._health.store

    @property
    def last_status(self) -> str | None:
        """The status last seen (Created right after our CreateDeployment; None before the
        first look at an attached deployment)."""
        return self._last_status

    def wait(
        self,
        deployment_id: str,
        deadline: Deadline,
        *,
        just_created: bool,
        milestones: frozenset[str] = frozenset(),
        traffic_shifted: bool = False,
        on_first_answer: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> WaitOutcome:
        """Wait for the end, or for a status in ``milestones`` (e.g. Ready), or, with
        ``traffic_shifted``, for GetDeployment's ``instanceTerminationWaitTimeStarted``.

        ``just_created``: this invocation's CreateDeployment made it, so its status
        is known (Created) and the first GetDeployment can wait an interval.
        ``on_first_answer`` runs once, with the wait's first GetDeployment answer (whichever
        look made it: a safety-net or TrafficShifted poll, or the read that confirms the
        table's status), as soon as that look is over, before the next pause. Not when that
        look ends the wait (the outcome carries the answer), nor when the deadline comes
        before any GetDeployment. So a caller that needs what GetDeployment says (the
        group's clock) never asks CodeDeploy for it.
        """
        started = self._clock.monotonic()
        self._last_status = DeploymentStatus.CREATED if just_created else None
        self._last_answer = None
        targets = milestones | {s for s in DeploymentStatus if is_terminal(s)}
        schedule = self._initial_schedule(
            started, just_created=just_created, traffic_shifted=traffic_shifted
        )
        schedule.started = started
        if not (just_created and self._policy.read_cadence.adapts):
            schedule.recent_durations = ()
        while True:
            try:
                found = self._look(deployment_id, schedule, targets, self._clock.monotonic())
            except NoTimeLeft:
                # Not even the briefest call fits before the margin.
                raise self._reached(deployment_id, deadline) from None
            if found is not None:
                snapshot, detected_by = found
                return WaitOutcome(snapshot, detected_by, self._clock.monotonic() - started)
            if on_first_answer is not None and self._last_answer is not None:
                tell, on_first_answer = on_first_answer, None
                tell(self._last_answer)
            pause = max(MIN_PAUSE_SECONDS, self._next_wake(schedule) - self._clock.monotonic())
            if not deadline.allows(pause):
                raise self._reached(deployment_id, deadline)
            self._clock.sleep(pause)

    def _reached(self, deployment_id: str, deadline: Deadline) -> WaitDeadlineReached:
        last = self._last_status or "not seen yet"
        return WaitDeadlineReached(deployment_id, last, deadline.remaining_seconds())

    def _initial_schedule(
        self, now: float, *, just_created: bool, traffic_shifted: bool
    ) -> _Schedule:
        if self._store is None:
            # Right after CreateDeployment the answer is known (Created); an attached
            # deployment may have ended already, so look at once.
            interval = self._policy.poll_interval
            first = now + interval if just_created else now
            return _Schedule(
                next_read=math.inf,
                next_poll=first,
                poll_interval=interval,
                traffic_shifted=traffic_shifted,
            )
        # An attached deployment may have ended while its table item says otherwise (a lost
        # event, or an item that never existed): one GetDeployment at once settles it.
        schedule = _Schedule(
            next_read=now, next_poll=now, poll_interval=0.0, traffic_shifted=traffic_shifted
        )
        schedule.poll_interval = schedule.first_poll_interval(self._policy)
        if just_created:
            schedule.next_poll = now + schedule.poll_interval
        return schedule

    def _next_wake(self, schedule: _Schedule) -> float:
        return min(schedule.next_read, schedule.next_poll)

    def _look(
        self, deployment_id: str, schedule: _Schedule, targets: frozenset[str], now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        # Due within the clock's granularity counts as due (see MIN_PAUSE_SECONDS).
        due = now + MIN_PAUSE_SECONDS
        if due >= schedule.next_read:
            found = self._read_store(deployment_id, schedule, targets, now)
            if found is not None:
                return found
        if due >= schedule.next_poll:
            return self._poll(deployment_id, schedule, targets, now)
        return None

    def _read_store(
        self, deployment_id: str, schedule: _Schedule, targets: frozenset[str], now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        store = self._store
        assert store is not None
        try:
            record = store.get(deployment_id)
        except StoreUnavailable as error:
            self._degrade(schedule, now, error)
            return None
        schedule.next_read = now + _read_interval(
            self._policy.read_cadence, store, deployment_id, schedule, record, now
        )
        if record is None:
            return None
        schedule.events_seen |= record.source == "event" or record.event_state is not None
        if record.status not in targets:
            self._observe(deployment_id, record.status, record.source)
            return None
        if now < schedule.distrust_until:
            return None
        # One GetDeployment confirms the end and brings completeTime, errorInformation and
        # rollbackInfo. CodeDeploy has the last word: the table's status may come from a
        # forged or stray event (a direct invoke of the recorder, say).
        snapshot = self._get(deployment_id)
        confirmed = snapshot.status == record.status
        self._observe(deployment_id, snapshot.status, record.source if confirmed else "api")
        if _contradicts(snapshot.status, record.status):
            logger.warning(
                "status table contradicted by GetDeployment; CodeDeploy's status wins",
                extra={
                    "tableStatus": record.status,
                    "tableSource": record.source,
                    "tableEventState": record.event_state,
                    "apiStatus": snapshot.status,
                },
            )
            self._correct(record, snapshot, schedule, now)
        if not schedule.met(snapshot, targets):
            schedule.distrust_table(self._policy, now)
            return None
        detected_by: DetectedBy = "event" if record.source == "event" else "poll"
        return snapshot, detected_by

    def _poll(
        self, deployment_id: str, schedule: _Schedule, targets: frozenset[str], now: float
    ) -> tuple[DeploymentSnapshot, DetectedBy] | None:
        snapshot = self._get(deployment_id)
        if self._store is not None and schedule.events_seen and not schedule.traffic_shifted:
            # Events flow for this deployment: the safety net can stretch, up to its cap.
            schedule.poll_interval = min(
                schedule.poll_interval * 2, self._policy.fallback_poll_max_interval
            )
        schedule.next_poll = now + schedule.poll_interval
        self._observe(deployment_id, snapshot.status, "api")
        if self._store is not None:
            self._write_back(snapshot, schedule, now)
        return (snapshot, "poll") if schedule.met(snapshot, targets) else None

    def _get(self, deployment_id: str) -> DeploymentSnapshot:
        self._last_answer = self._poller.get(deployment_id)
        return self._last_answer

    def _write_back(self, snapshot: DeploymentSnapshot, schedule: _Schedule, now: float) -> None:
        """Share what a poll learned, so other readers need not poll too."""
        assert self._store is not None
        try:
            self._store.record(StatusUpdate.from_snapshot(snapshot, source="api"))
        except StoreUnavailable as error:
            self._degrade(schedule, now, error)

    def _correct(
        self, record: StatusRecord, snapshot: DeploymentSnapshot, schedule: _Schedule, now: float
    ) -> None:
        """Write CodeDeploy's status over the one it denies (see StatusStore.correct)."""
        if self._store is None:
            return
        try:
            corrected = self._store.correct(
                record, StatusUpdate.from_snapshot(snapshot, source="api")
            )
        except StoreUnavailable as error:
            self._degrade(schedule, now, error)
            return
        logger.info(
            "status table corrected" if corrected else "status table moved on meanwhile",
            extra={"status": snapshot.status, "replacedStatus": record.status},
        )

    def _degrade(self, schedule: _Schedule, now: float, error: StoreUnavailable) -> None:
        self._health.lose(error)
        schedule.next_read = math.inf
        schedule.poll_interval = self._policy.poll_interval
        schedule.next_poll = min(schedule.next_poll, now + self._policy.poll_interval)

    def _observe(self, deployment_id: str, status: str, source: str) -> None:
        if status == self._last_status:
            return
        extra = {"status": status, "previousStatus": self._last_status, "seenVia": source}
        extra.update(self._explain_status(deployment_id, status))
        logger.info("deployment status changed", extra=extra)
        self._last_status = status


def _read_interval(
    cadence: ReadCadence,
    store: StatusStore,
    deployment_id: str,
    schedule: _Schedule,
    record: StatusRecord | None,
    now: float,
) -> float:
    """The read cadence's answer (shared/trigger/read_cadence.py) for what is known now."""
    if schedule.recent_durations is None and record is not None:
        schedule.recent_durations = _recent_durations(store, deployment_id, record)
    facts = WaitFacts(
        elapsed=now - schedule.started,
        status=None if record is None else record.status,
        recent_durations=schedule.recent_durations or (),
        events_seen=schedule.events_seen
        or (record is not None and (record.source == "event" or bool(record.event_state))),
        traffic_shifted=schedule.traffic_shifted,
    )
    return next_read_interval(cadence, facts)


def _recent_durations(
    store: StatusStore, deployment_id: str, record: StatusRecord
) -> tuple[float, ...]:
    """createdAt -> completedAt of the group's latest successes: one Query on the group
    index (eventually consistent, which a duration minutes old can afford)."""
    if not (record.application_name and record.deployment_group_name):
        return ()
    try:
        history = store.group_history(
            record.application_name, record.deployment_group_name, RECENT_DEPLOYMENTS
        )
    except StoreUnavailable as error:
        # Only the cadence needs it: read at the fixed interval; the next status read
        # decides whether the table still serves.
        logger.warning("group history unavailable", extra={"reason": str(error)})
        return ()
    durations = [
        seconds_between(item.created_at, item.completed_at)
        for item in history
        if item.deployment_id != deployment_id and item.status == DeploymentStatus.SUCCEEDED
    ]
    return tuple(seconds for seconds in durations if seconds is not None and seconds > 0)


def _contradicts(api_status: str, table_status: str) -> bool:
    """GetDeployment denies the table: an earlier status, or another ending.

    A later status is only progress the table has not seen yet (a lost event).
    """
    if api_status == table_status or not (is_known(api_status) and is_known(table_status)):
        return False
    return rank(api_status) < rank(table_status) or (
        is_terminal(api_status) and is_terminal(table_status)
    )
