"""The invocation's deadline: how long may we still wait, and how long may one call take.

Lambda kills a function at its timeout (at most 900 s) and Terraform then sees
only ``Task timed out``. ``context.get_remaining_time_in_millis()`` is the only
warning (Lambda developer guide, "Using the Lambda context object"), so every
sleep and every AWS call is measured against it here, in one place:

- the *wait budget* keeps ``DEADLINE_MARGIN_SECONDS`` in reserve for the work
  after the wait (the error message, StopDeployment, failure diagnostics);
- the *final budget* is what those last calls may spend, keeping only
  :data:`FINAL_RESERVE_SECONDS` to build and return the answer;
- the *watchdog* (shared/trigger/watchdog.py) interrupts a call that outlives its budget anyway
  (botocore's timeouts bound socket reads, not responses, nor DNS): a part of the margin
  after the wait budget ends (:meth:`Deadline.watchdog_seconds`), and, once the work inside
  the margin has begun, :data:`WATCHDOG_LAST_SECONDS` before the end.
"""

from __future__ import annotations

import math
from typing import Protocol

FINAL_RESERVE_SECONDS = 2.0
"""Kept after the last AWS call: formatting the error and returning it take milliseconds."""
WATCHDOG_GRACE_FRACTION = 0.2
"""The part of the margin a call still running when the wait budget ends may take before the
watchdog interrupts it; the rest is for the answer (StopDeployment, the timeout message)."""
WATCHDOG_LAST_SECONDS = 1.0
"""With this much left the watchdog interrupts even the calls made inside the margin, and
the answer is built from what is known, without another call."""


class LambdaContextLike(Protocol):
    """The one thing the trigger needs from the Lambda context."""

    def get_remaining_time_in_millis(self) -> int: ...


class NoTimeLeft(Exception):
    """No AWS call can complete within the time this invocation has left."""

    def __init__(self, budget_seconds: float) -> None:
        super().__init__(f"{budget_seconds:.1f}s left for the call")
        self.budget_seconds = budget_seconds


class Deadline:
    """Time left in this invocation (unbounded without a context), and the margin it keeps."""

    def __init__(self, context: LambdaContextLike | None, margin_seconds: float) -> None:
        self._context = context
        self.margin_seconds = margin_seconds

    def remaining_seconds(self) -> float:
        if self._context is None:
            return math.inf
        return self._context.get_remaining_time_in_millis() / 1000

    def allows(self, pause_seconds: float) -> bool:
        """True when a pause of this length still ends before the margin."""
        return self.remaining_seconds() >= self.margin_seconds + pause_seconds

    def wait_budget(self) -> float:
        """Seconds a call made while waiting may take: up to the margin, not into it."""
        return self.remaining_seconds() - self.margin_seconds

    def final_budget(self) -> float:
        """Seconds a call made inside the margin (stop, diagnostics) may take."""
        return self.remaining_seconds() - FINAL_RESERVE_SECONDS

    def watchdog_seconds(self) -> float:
        """Seconds until the watchdog interrupts a call of the wait phase (inf: no deadline).

        The wait budget plus :data:`WATCHDOG_GRACE_FRACTION` of the margin, and never later
        than :meth:`last_watchdog_seconds` (a margin of a second or less).
        """
        kept = max(self.margin_seconds * (1 - WATCHDOG_GRACE_FRACTION), WATCHDOG_LAST_SECONDS)
        return self.remaining_seconds() - kept

    def last_watchdog_seconds(self) -> float:
        """Seconds until the watchdog interrupts even the calls made inside the margin."""
        return self.remaining_seconds() - WATCHDOG_LAST_SECONDS
