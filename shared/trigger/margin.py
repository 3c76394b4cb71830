"""Calls made inside the deadline margin whose failure the answer reports instead of raising:
the last look before a hand-over, StopDeployment, following the rollback.

Either CodeDeploy answered with an error, or no client's retries fit the time left
(:class:`~shared.deadline.NoTimeLeft`, from the client ladder): for these calls both mean the
same thing, "not known", and the answer says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from shared.deadline import NoTimeLeft
from shared.errors import CodeDeployError

T = TypeVar("T")

CallFailure = CodeDeployError | NoTimeLeft


def best_effort(call: Callable[[], T]) -> T | CallFailure:
    """What ``call`` returned, or the failure that the answer will quote."""
    try:
        return call()
    except (CodeDeployError, NoTimeLeft) as error:
        return error
