"""Whether the status table still works for this invocation: one owner, asked each time.

The status store (waiting) and the deduplicator (creating) use the same table. When either
finds it unavailable, the invocation stops using both and says so once; the waiter, create,
start and finish read :attr:`TableHealth.store` / :attr:`TableHealth.deduplicator` at the
moment they need them, so nobody keeps a store the table has stopped answering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.idempotency import DeploymentDeduplicator, IdempotencyUnavailable
from shared.adapters.status_store import StatusStore, StoreUnavailable
from shared.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.config import Settings
    from shared.deadline import LambdaContextLike


class TableHealth:
    """The store and the deduplicator of one invocation; None once the table is lost."""

    def __init__(
        self,
        store: StatusStore | None,
        deduplicator: DeploymentDeduplicator | None,
        *,
        poll_interval: float,
    ) -> None:
        self.store = store
        self.deduplicator = deduplicator
        self._poll_interval = poll_interval

    @classmethod
    def for_invocation(
        cls,
        settings: Settings,
        dynamodb: DynamoDBClient,
        context: LambdaContextLike | None,
        *,
        creates: bool,
    ) -> TableHealth:
        """Without STATUS_TABLE_NAME there is no table; an attach never creates, so it
        needs no duplicate protection."""
        table = settings.status_table_name
        if table is None:
            return cls(None, None, poll_interval=settings.poll_interval)
        store = StatusStore(table, dynamodb, ttl_days=settings.status_ttl_days)
        deduplicator = None
        if creates:
            deduplicator = DeploymentDeduplicator(
                table, dynamodb, ttl_seconds=settings.idempotency_ttl, context=context
            )
        return cls(store, deduplicator, poll_interval=settings.poll_interval)

    def lose(self, error: StoreUnavailable | IdempotencyUnavailable) -> None:
        """Stop using the table for this invocation, and say so once."""
        if self.store is None:
            return
        logger.warning(
            "status table unavailable; polling GetDeployment instead, without duplicate protection",
            extra={"reason": str(error), "pollIntervalSeconds": self._poll_interval},
        )
        self.store = None
        self.deduplicator = None

    def forget(self, payload: dict[str, Any]) -> bool:
        """Clear this request's idempotency record; whether it is gone (or there is none)."""
        if self.deduplicator is None:
            return True
        try:
            self.deduplicator.forget(payload)
        except IdempotencyUnavailable as error:
            # Not fatal, and never in place of the error being raised: the record names a
            # deployment that ended unsuccessfully or too long ago, so an identical retry
            # reads it, sees that, and deploys again.
            logger.warning(
                "could not clear the idempotency record; an identical retry will check the "
                "deployment it names and deploy again",
                extra={"reason": str(error)},
            )
            return False
        return True

    def without_duplicate_protection(self) -> None:
        """The record cannot be cleared: it would answer the next create with the same
        deployment again, so deploy without duplicate protection (nothing was sent yet)."""
        self.deduplicator = None
