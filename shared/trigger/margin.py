"""Calls whose failure the answer reports instead of raising: inside the deadline margin the
last look before a hand-over, StopDeployment, following the rollback; and reading a custom
deployment configuration for the group's clock, which must never fail the deployment.

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
