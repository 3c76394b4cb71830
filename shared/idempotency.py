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

This module is the boundary to Powertools: its exceptions are translated here
into :class:`DuplicateInProgress` and :class:`IdempotencyUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    BaseError,
    IdempotencyAlreadyInProgressError,
)

from shared import status_table as table
from shared.deadline import LambdaContextLike

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

    def create_once(self, payload: dict[str, Any], create: Callable[[], str]) -> tuple[str, bool]:
        """Run ``create`` unless an identical payload already did.

        Returns the deployment id and whether it was created by this call. An
        exception from ``create`` clears the record (Powertools does) and propagates.
        """
        created: list[str] = []

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=self._layer,
            config=self._config,
            key_prefix=KEY_PREFIX,
        )
        def create_deployment(request: dict[str, Any]) -> dict[str, str]:
            deployment_id = create()
            created.append(deployment_id)
            return {"deploymentId": deployment_id}

        try:
            outcome = create_deployment(request=payload)
        except IdempotencyAlreadyInProgressError as busy:
            raise DuplicateInProgress(str(busy)) from busy
        except BaseError as error:
            raise IdempotencyUnavailable(f"idempotency records: {error}") from error
        return str(outcome["deploymentId"]), bool(created)

    def forget(self, payload: dict[str, Any]) -> None:
        """Drop the record so the next identical request creates a new deployment."""
        try:
            self._layer.configure(self._config, key_prefix=KEY_PREFIX)
            self._layer.delete_record(data=payload, exception=_Forgotten())
        except BaseError as error:
            raise IdempotencyUnavailable(f"idempotency records: {error}") from error
