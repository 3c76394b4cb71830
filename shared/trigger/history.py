"""The trigger's query mode: a deployment group's deployments, newest first, from the table.

``{"history": {"applicationName": ..., "deploymentGroupName": ..., "limit": 10}}``
answers "what was deployed to this group, and is the last one healthy?" for
every deployment the status table knows: those the trigger started and those
known only from the recorder's events (console, pipelines). It is one Query
on the table's ``byGroup`` index: no CodeDeploy call and no write, so it is
safe to run on every ``terraform plan`` (``data "aws_lambda_invocation"``).
"""

from __future__ import annotations

from shared.adapters.status_store import StatusRecord, StatusStore, StoreUnavailable
from shared.config import Settings
from shared.contract.request import HistoryRequest
from shared.deadline import NoTimeLeft
from shared.errors import StatusTableUnavailable
from shared.observability import logger
from shared.report.messages import TABLE_NEEDED, history_unavailable_message
from shared.report.result import HistoryEntry, HistoryResult


def read_history(store: StatusStore, query: HistoryRequest) -> HistoryResult:
    """The group's latest ``query.limit`` deployments; ``latest`` is the first, or None.

    Raises :class:`StatusTableUnavailable` when the table cannot answer, with
    what to fix.
    """
    try:
        records = store.group_history(
            query.application_name, query.deployment_group_name, query.limit
        )
    except StoreUnavailable as error:
        raise StatusTableUnavailable(
            history_unavailable_message(str(error), error.code, store.table_name)
        ) from None
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
