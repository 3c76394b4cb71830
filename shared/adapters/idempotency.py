"""One deployment per request, even when Terraform or Lambda delivers it twice.

CodeDeploy has no idempotency token, while Terraform's SDK may resend Invoke
after a transport fault and async invocations are retried. Powertools
Idempotency guards the *create step only* (not the wait, which may last many
minutes): the first request stores ``{"deploymentId": ...}`` in the status
table under a hash of its payload; an identical request within
``IDEMPOTENCY_TTL_SECONDS`` gets that id back. Whether it should attach to that
deployment or deploy again (a revert to an earlier input must deploy) is the
caller's decision; :meth:`DeploymentDeduplicator.forget` clears the record when
it decides to deploy again.

This module is the boundary to Powertools, and every error of the table is decided
here, by *when* it happened (Powertools' ``IdempotencyHandler``: ``save_inprogress``
failures, and ``save_success`` or ``delete_record`` failures after the function ran, are
each raised as ``IdempotencyPersistenceLayerError``; :meth:`forget` calls ``delete_record``
directly, which lets a botocore ``ClientError`` through unwrapped):

- before CreateDeployment (PutItem, GetItem): :class:`IdempotencyUnavailable`; the caller
  may switch the table off and create without protection, nothing was sent yet;
- after CreateDeployment returned an id (the UpdateItem that saves it): the id is kept and
  returned, with a warning. Raising would make the caller send CreateDeployment again;
- after CreateDeployment raised (the DeleteItem that clears the record): CreateDeployment's
  own error is raised, with its explanation, and the warning says the record is left
  (in progress until this invocation's time would have run out: no identical request
  resends meanwhile, which an ambiguous failure needs);
- :meth:`forget`: :class:`IdempotencyUnavailable`, never a raw botocore error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.adapters import status_table as table
from shared.deadline import LambdaContextLike
from shared.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Idempotency records share the status table; this prefix keeps their keys apart
# from deployment ids, and their TTL attribute is the table's (expiresAt).
KEY_PREFIX = "codedeploy-trigger:create"


class DuplicateInProgress(Exception):
    """An identical request is inside CreateDeployment right now; retry in a moment."""


class IdempotencyUnavailable(Exception):
    """The idempotency records cannot be read or written (the table is unusable)."""


class _Forgotten(Exception):
    """The reason Powertools wants when a record is deleted (it only logs its class name)."""


@dataclass(eq=False)  # one call's state, never compared
class _CreateCall:
    """What the wrapped create did, so a table error can be told apart from its own."""

    deployment_id: str | None = None
    error: Exception | None = None


class DeploymentDeduplicator:
    """Maps an identical payload to the deployment the first request created."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        *,
        ttl_seconds: float,
        context: LambdaContextLike | None,
    ) -> None:
        # Powertools' idempotency is imported here, not at module level: only a create with a
        # status table builds a deduplicator, and the import is a cold-start cost otherwise.
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        self._layer = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr=table.DEPLOYMENT_ID,
            expiry_attr=table.EXPIRES_AT,
            in_progress_expiry_attr=table.IN_PROGRESS_EXPIRES_AT,
            status_attr=table.IDEMPOTENCY_STATUS,
            data_attr=table.IDEMPOTENCY_RESULT,
            validation_key_attr=table.IDEMPOTENCY_VALIDATION,
            boto3_client=client,
        )
        self._config = IdempotencyConfig(expires_after_seconds=max(1, int(ttl_seconds)))
        if context is not None:
            # A crash mid-create then frees the record when this invocation would have ended.
            self._config.register_lambda_context(context)  # type: ignore[arg-type]
        self._left_in_progress = False

    def create_once(self, payload: dict[str, Any], create: Callable[[], str]) -> tuple[str, bool]:
        """Run ``create`` unless an identical payload already did.

        Returns the deployment id and whether it was created by this call. An
        exception from ``create`` clears the record (Powertools does) and propagates,
        even when the record cannot be cleared. :class:`IdempotencyUnavailable` means
        ``create`` was not called.
        """
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        if self._left_in_progress:
            # This invocation's own record, left by a create that failed (an active
            # deployment in the group, then onActiveDeployment "wait"): clear it first,
            # or the retry would wait for itself.
            self.forget(payload)
            self._left_in_progress = False
        call = _CreateCall()

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=self._layer,
            config=self._config,
            key_prefix=KEY_PREFIX,
        )
        def create_deployment(request: dict[str, Any]) -> dict[str, str]:
            try:
                call.deployment_id = create()
            except Exception as error:
                call.error = error
                raise
            return {"deploymentId": call.deployment_id}

        try:
            outcome = create_deployment(request=payload)
        except IdempotencyAlreadyInProgressError as busy:
            raise DuplicateInProgress(str(busy)) from busy
        except Exception as error:
            if call.error is not None:
                if error is not call.error:
                    self._left_in_progress = True
                    logger.warning(
                        "CreateDeployment failed and its idempotency record could not be "
                        "cleared; an identical request waits for it until this invocation's "
                        "time would have run out",
                        extra={"reason": _reason(error)},
                    )
                raise call.error from call.error.__cause__
            if call.deployment_id is not None:
                logger.warning(
                    "deployment created but its idempotency record could not be saved; "
                    "continuing with it (an identical request waits until this invocation's "
                    "time would have run out, then deploys again)",
                    extra={"deploymentId": call.deployment_id, "reason": _reason(error)},
                )
                return call.deployment_id, True
            raise IdempotencyUnavailable(f"idempotency records: {_reason(error)}") from error
        return str(outcome["deploymentId"]), call.deployment_id is not None

    def forget(self, payload: dict[str, Any]) -> None:
        """Drop the record so the next identical request creates a new deployment."""
        try:
            self._layer.configure(self._config, key_prefix=KEY_PREFIX)
            self._layer.delete_record(data=payload, exception=_Forgotten())
        except Exception as error:
            raise IdempotencyUnavailable(f"idempotency records: {_reason(error)}") from error


def _reason(error: Exception) -> str:
    """The table's own words: Powertools' errors print the botocore error they wrap."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import BaseError

    return str(error) if isinstance(error, BaseError) else f"{type(error).__name__}: {error}"
