"""The trigger's query mode: a deployment group's deployments, newest first, from the table.

``{"history": {"applicationName": ..., "deploymentGroupName": ..., "limit": 10}}``
answers "what was deployed to this group, and is the last one healthy?" for
every deployment the status table knows: those the trigger started and those
known only from the recorder's events (console, pipelines). It is one Query
on the table's ``byGroup`` index: no CodeDeploy call and no write, so it is
safe to run on every ``terraform plan`` (``data "aws_lambda_invocation"``).
"""

from __future__ import annotations

from typing import TypedDict

from shared.adapters.status_store import StatusRecord, StatusStore, StoreUnavailable
from shared.adapters.status_table import BY_GROUP_INDEX
from shared.config import Settings
from shared.contract.request import HistoryQuery
from shared.deadline import NoTimeLeft
from shared.errors import StatusTableUnavailable
from shared.observability import logger

TABLE_NEEDED = (
    "a history query reads the DynamoDB status table (the recorder's), and there is nothing "
    "else to read: set it to the module's status_table_name"
)


class HistoryEntry(TypedDict):
    deploymentId: str
    status: str
    createdAt: str | None
    completedAt: str | None
    source: str


class HistoryResult(TypedDict):
    deployments: list[HistoryEntry]
    latest: HistoryEntry | None


def read_history(store: StatusStore, query: HistoryQuery) -> HistoryResult:
    """The group's latest ``query.limit`` deployments; ``latest`` is the first, or None.

    Raises :class:`StatusTableUnavailable` when the table cannot answer, with
    what to fix.
    """
    try:
        records = store.group_history(
            query.application_name, query.deployment_group_name, query.limit
        )
    except StoreUnavailable as error:
        raise StatusTableUnavailable(_explain(error, store.table_name)) from None
    except NoTimeLeft as error:
        raise StatusTableUnavailable(
            f"no time left to read the deployment history ({error}): raise the function's timeout"
        ) from None
    deployments = [_entry(record) for record in records]
    logger.info(
        "history read",
        extra={
            "applicationName": query.application_name,
            "deploymentGroupName": query.deployment_group_name,
            "limit": query.limit,
            "count": len(deployments),
        },
    )
    return HistoryResult(deployments=deployments, latest=deployments[0] if deployments else None)


def require_table(settings: Settings) -> str:
    """The table name; unset is a ConfigurationError (a query has nothing else to read)."""
    return settings.require_status_table(TABLE_NEEDED)


def _entry(record: StatusRecord) -> HistoryEntry:
    return HistoryEntry(
        deploymentId=record.deployment_id,
        status=record.status,
        createdAt=record.created_at,
        completedAt=record.completed_at,
        source=record.source,
    )


def _explain(error: StoreUnavailable, table: str) -> str:
    hints = {
        # DynamoDB: "The table does not have the specified index: byGroup".
        "ValidationException": (
            f"the table has no {BY_GROUP_INDEX} index, so it was made by an older version of "
            "the module: apply the module again (adding the index is an in-place change); "
            "deployments last written before that stay out of it"
        ),
        "AccessDeniedException": (
            f"the trigger's role needs dynamodb:Query on the index ARN "
            f"(<table ARN>/index/{BY_GROUP_INDEX}); the module grants it"
        ),
        "ResourceNotFoundException": (
            f"no table {table} in this account and region: check STATUS_TABLE_NAME"
        ),
    }
    hint = hints.get(error.code or "")
    return f"could not read the deployment history: {error}" + (f". {hint}" if hint else "")
