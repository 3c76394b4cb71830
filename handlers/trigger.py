"""Entry point of the trigger function: ``handlers.trigger.lambda_handler``.

Terraform's ``aws_lambda_invocation`` calls it with a CreateDeployment-shaped
JSON object; see docs/input-contract.md for the contract.
"""

from __future__ import annotations

import gc
from functools import cache
from typing import TYPE_CHECKING, Any

# The import below makes tens of thousands of objects (modules, classes, functions) that live as
# long as the container, and frees almost none: the cyclic collector's passes during it find
# nothing to free and cost 2-3 ms of every cold start. Collection resumes when it is done, after
# gc.freeze() has moved every object made so far (boto3's too) out of all later collections:
# the first one would otherwise scan them all once more, about 1.5 ms, to free nothing, and every
# full collection while the trigger waits would scan them again (Python docs, gc.freeze).
_collecting = gc.isenabled()
gc.disable()
try:
    from shared.observability import logger, metrics
    from shared.trigger.dispatch import TriggerService
finally:
    gc.freeze()
    if _collecting:
        gc.enable()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def service() -> TriggerService:
    """One service per container: its boto3 clients are reused across invocations."""
    return TriggerService()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    return dict(service().handle(event, context))
