"""One deployment per request, even when Terraform or Lambda delivers it twice.

CodeDeploy has no idempotency token, while Terraform's SDK may resend Invoke
after a transport fault and async invocations are retried. Powertools
Idempotency guards the *create step only* (not the wait, which may last many
minutes): the first request stores ``{"deploymentId": ...}`` in the status
table under a hash of its payload; an identical request within
``IDEMPOTENCY_TTL_SECONDS`` gets that id back and attaches to it. What
Powertools cannot know is whether that deployment later failed: the caller
checks it and calls :meth:`DeploymentDeduplicator.forget` so a retry after a
Failed or Stopped deployment creates a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

# Idempotency records share the status table; this prefix keeps their keys apart
# from deployment ids, and their TTL attribute is the table's (expiresAt).
KEY_PREFIX = "codedeploy-trigger:create"


class DeploymentDeduplicator:
    """Maps an identical payload to the deployment the first request created."""

    def __init__(
        self, table_name: str, client: Any, *, ttl_seconds: float, context: Any | None
    ) -> None:
        self._layer = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr="deploymentId",
            expiry_attr="expiresAt",
            in_progress_expiry_attr="inProgressExpiresAt",
            status_attr="idempotencyStatus",
            data_attr="idempotencyResult",
            validation_key_attr="idempotencyValidation",
            boto3_client=client,
        )
        self._config = IdempotencyConfig(expires_after_seconds=max(1, int(ttl_seconds)))
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            # A crash mid-create then frees the record when this invocation would have ended.
            self._config.register_lambda_context(context)

    def create_once(self, payload: dict[str, Any], create: Callable[[], str]) -> tuple[str, bool]:
        """Run ``create`` unless an identical payload already did.

        Returns the deployment id and whether it was created by this call.
        Raises Powertools' ``IdempotencyAlreadyInProgressError`` while another
        invocation is inside CreateDeployment with the same payload.
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

        outcome = create_deployment(request=payload)
        return str(outcome["deploymentId"]), bool(created)

    def forget(self, payload: dict[str, Any], reason: Exception) -> None:
        """Drop the record so the next identical request creates a new deployment."""
        self._layer.configure(self._config, key_prefix=KEY_PREFIX)
        self._layer.delete_record(data=payload, exception=reason)
