"""Entry point of the recorder function: ``handlers.recorder.lambda_handler``.

An EventBridge rule sends it CodeDeploy "Deployment State-change Notification"
events; it writes each deployment's status into the status table.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from shared.observability import logger
from shared.recorder import RecorderService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def service() -> RecorderService:
    return RecorderService()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    # The context tells the recorder its own account (events of others are dropped) and
    # the time left (every table write fits in it).
    return dict(service().handle(event, context))
