"""Exponential backoff, botocore's way: one definition for our own retries and for the
worst case of botocore's (standard mode: ``delay = random() * min(20, 2 ** attempt)``,
botocore ``retries/standard.py``)."""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_BACKOFF_SECONDS = 20.0


def full_jitter(
    attempt: int,
    cap: float = MAX_BACKOFF_SECONDS,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """The pause before retry number ``attempt`` (1 for the first retry)."""
    return uniform(0, min(cap, 2.0**attempt))


def worst_case(attempts: int, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """The longest total of the pauses between ``attempts`` tries."""
    return sum(min(cap, 2.0**n) for n in range(attempts - 1))
