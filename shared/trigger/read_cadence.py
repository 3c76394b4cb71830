"""When to read the status table next: fast while the deployment is likely to end, slow
while it cannot, and never more reads than a fixed ``STATUS_READ_INTERVAL_SECONDS`` cadence.

The trigger's own share of the lag (terminal status in the table -> the trigger returns)
is the wait for its next read: with a fixed 1 s cadence, up to 1 s. Reading every 0.1 s
throughout would cut that to 0.1 s but cost 10x the reads. What makes a cheaper
answer possible is that a deployment group's deployments take about the same time each
time (task start-up, health checks and the deployment config's traffic-shift and
termination waits repeat), and the group's recent durations are kept in the status table.
So the policy reads slowly while the deployment is still far from the group's usual end,
reads fast inside a window around it, and slows down again when it overruns.

Policy as data, like botocore's waiter configuration: :class:`ReadCadence` holds every
number, :func:`next_read_interval` is a pure function of what is known (:class:`WaitFacts`),
and the waiter only asks it how long to wait. Without history (a group's first deployment,
an attached deployment whose age is unknown) the answer is the fixed interval, as before.

Deliberately not used: the deployment config's traffic-shifting plan (the group clock,
shared/trigger/group_clock.py, reads it for the result and the logs). It gives only a lower
bound on the duration (task start-up and hooks come on top), and the group's history already
includes its waits.

Waiting for ``TrafficShifted``, the history says when deployments *end*, which for a
blue/green group with TERMINATE is the termination wait later than the milestone; and the
milestone itself is only in GetDeployment (the waiter polls it, shared/trigger/waiter.py).
The table then only has to show an early end (a failure, a stop): the fixed cadence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from shared.status import DeploymentStatus, is_terminal

if TYPE_CHECKING:
    from shared.config import Settings


class ReadCadence(NamedTuple):
    """Every number of the read policy. Intervals are seconds."""

    default_interval: float = 1.0
    """Without a usable history: the fixed cadence (``STATUS_READ_INTERVAL_SECONDS``). It is
    also the unit of the read budget: the policy spends no more reads than this cadence."""
    near_end_interval: float = 0.1
    """Inside the window where the deployment is likely to end
    (``STATUS_READ_MIN_INTERVAL_SECONDS``)."""
    far_interval: float = 4.0
    """The longest pause, while the end is far (``STATUS_READ_MAX_INTERVAL_SECONDS``). It
    bounds how late an unusually early end (a failure, a stop) is seen."""
    approach_share: float = 0.25
    """Before the window, pause for this share of the time left until it opens: a few reads
    while far, converging on the window without overshooting it."""
    window_margin: float = 0.03
    """The window runs from the shortest recent duration less this share to the longest
    plus this share."""
    window_read_share: float = 0.75
    """Until the group's usual end, the window may spend at most this share of the reads the
    fixed cadence would make in that time, less those spent before the window; a wide
    (noisy) history therefore reads the window more slowly rather than more often."""
    overrun_growth: float = 0.1
    """Past the window, the pause grows by this many seconds per second of overrun."""
    min_history: int = 2
    """Fewer recent durations than this is no history."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadCadence:
        """The policy with this invocation's intervals (``STATUS_READ_*_SECONDS``)."""
        return cls(
            default_interval=settings.status_read_interval,
            near_end_interval=settings.status_read_min_interval,
            far_interval=settings.status_read_max_interval,
        )

    @property
    def adapts(self) -> bool:
        """False when every interval is the same: a fixed cadence needs no history at all."""
        return not (self.near_end_interval == self.default_interval == self.far_interval)


class WaitFacts(NamedTuple):
    """What is known when a read comes back."""

    elapsed: float
    """Seconds since the deployment was created."""
    status: str | None
    """The status the table holds (None: no item yet)."""
    recent_durations: Sequence[float] = ()
    """The group's recent successful deployments, createTime to completeTime, seconds."""
    events_seen: bool = True
    """Whether a state-change event has reached the table for this deployment yet."""
    traffic_shifted: bool = False
    """The wait ends at ``TrafficShifted``, which the table cannot show."""


def next_read_interval(cadence: ReadCadence, facts: WaitFacts) -> float:
    """Seconds until the next read of the status table."""
    if facts.status is not None and is_terminal(facts.status):
        return cadence.far_interval  # the waiter stops reading; this is never slept
    if facts.status == DeploymentStatus.READY:
        # Traffic waits for ContinueDeployment or the group's timer: the end is not near,
        # and only a STOP can come early.
        return cadence.far_interval
    if facts.traffic_shifted:
        return cadence.default_interval
    durations = [d for d in facts.recent_durations if d > 0]
    if not cadence.adapts or len(durations) < cadence.min_history or not facts.events_seen:
        # No event yet (START comes seconds after creation): the pipeline may be down, and
        # fast reads of a table nobody writes to would only spend the budget.
        return cadence.default_interval
    # Imported here: only a wait with a group history gets this far, and statistics (with
    # fractions) is about 1.5 ms of a cold start's import otherwise.
    import statistics

    usual = statistics.mean(durations)
    opens = min(durations) * (1 - cadence.window_margin)
    closes = max(durations) * (1 + cadence.window_margin)
    if facts.elapsed < opens:
        approach = cadence.approach_share * (opens - facts.elapsed)
        return _bounded(cadence, approach)
    # The window's reads until the usual end stay within the fixed cadence's budget.
    budget = usual / cadence.default_interval - _reads_before(cadence, opens)
    budget = max(1.0, cadence.window_read_share * budget)
    near = _bounded(cadence, max(cadence.near_end_interval, (usual - opens) / budget))
    if facts.elapsed <= closes:
        return near
    return _bounded(cadence, near + cadence.overrun_growth * (facts.elapsed - closes))


def _reads_before(cadence: ReadCadence, opens: float) -> float:
    """About how many reads the policy makes before the window opens: every far interval
    while the approach pause would be longer, then pauses shrinking by the approach share."""
    approach_from = min(opens, cadence.far_interval / cadence.approach_share)
    far_reads = (opens - approach_from) / cadence.far_interval
    ratio = max(1.0, cadence.approach_share * approach_from / cadence.near_end_interval)
    steps = math.log(ratio) / -math.log(1 - cadence.approach_share)
    return far_reads + steps + 1


def _bounded(cadence: ReadCadence, seconds: float) -> float:
    return min(cadence.far_interval, max(cadence.near_end_interval, seconds))
