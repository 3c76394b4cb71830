"""The trigger's sense of time: one object that reads the monotonic clock and sleeps.

Production uses :data:`SYSTEM_CLOCK`; tests hand ``TriggerService(clock=..., sleep=...)`` a
clock that ticks frozen time and advances a simulated CodeDeploy, and the bench a sleep that
measures how late it woke. Both are wrapped into one :class:`Clock` so no step can read one
time and sleep in another.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def _monotonic() -> float:
    # Looked up at call time so that freezegun's patched clock is honoured.
    return time.monotonic()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class Clock:
    """``monotonic()`` and ``sleep(seconds)``, from the same source of time."""

    def __init__(
        self,
        monotonic: Callable[[], float] = _monotonic,
        sleep: Callable[[float], None] = _sleep,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep

    def monotonic(self) -> float:
        return self._monotonic()

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)


SYSTEM_CLOCK = Clock()
