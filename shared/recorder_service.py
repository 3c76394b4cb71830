"""What the recorder function does: CodeDeploy state-change event in, one status write out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from shared import aws
from shared.config import Settings
from shared.observability import logger
from shared.status import EVENT_STATE_TO_STATUS, is_terminal
from shared.status_store import StatusStore, StatusUpdate
from shared.timestamps import to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SOURCE = "aws.codedeploy"
DEPLOYMENT_DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"


class RecorderResult(TypedDict, total=False):
    outcome: str  # recorded | superseded | ignored | malformed
    deploymentId: str
    status: str


class MalformedEvent(ValueError):
    """A CodeDeploy deployment event we cannot map: logged, never retried."""


def parse_event(event: Mapping[str, Any]) -> StatusUpdate | None:
    """The status update an EventBridge event carries, or None for events not ours.

    Raises :class:`MalformedEvent` for a CodeDeploy deployment event that lacks
    a deployment id or carries an unknown state.
    """
    if event.get("source") != SOURCE or event.get("detail-type") != DEPLOYMENT_DETAIL_TYPE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail is missing or not an object")
    deployment_id = detail.get("deploymentId")
    if not isinstance(deployment_id, str) or not deployment_id:
        raise MalformedEvent("detail.deploymentId is missing")
    state = detail.get("state")
    status = EVENT_STATE_TO_STATUS.get(state) if isinstance(state, str) else None
    if status is None:
        raise MalformedEvent(
            f"detail.state {state!r} is not one of {', '.join(EVENT_STATE_TO_STATUS)}"
        )
    event_time = to_iso(event.get("time")) if isinstance(event.get("time"), str) else None
    return StatusUpdate(
        deployment_id=deployment_id,
        status=status,
        source="event",
        event_state=state,
        # Both names put the item into the status table's group index, also for
        # deployments started outside Terraform (console, pipelines).
        application_name=_text(detail.get("application")),
        deployment_group_name=_text(detail.get("deploymentGroup")),
        # Only the first write's createdAt is kept (the trigger's, for deployments it
        # started): a deployment known from events only is dated by its first event.
        created_at=event_time,
        completed_at=event_time if is_terminal(status) else None,
    )


class RecorderService:
    """Maps one event and writes it; DynamoDB errors propagate so EventBridge retries."""

    def __init__(self, *, dynamodb_client: DynamoDBClient | None = None) -> None:
        self._dynamodb_client = dynamodb_client

    def handle(self, event: object) -> RecorderResult:
        settings = Settings.from_env()
        table = settings.require_status_table()
        if not isinstance(event, Mapping):
            logger.error(
                "event is not an object; ignored", extra={"eventType": type(event).__name__}
            )
            return RecorderResult(outcome="malformed")
        event_id = event.get("id")
        try:
            update = parse_event(event)
        except MalformedEvent as error:
            # Raising would only replay a poison event through every retry.
            logger.error(
                "malformed CodeDeploy event; ignored",
                extra={"eventId": event_id, "reason": str(error)},
            )
            return RecorderResult(outcome="malformed")
        if update is None:
            logger.info(
                "not a deployment state-change event; ignored",
                extra={
                    "eventId": event_id,
                    "source": event.get("source"),
                    "detailType": event.get("detail-type"),
                },
            )
            return RecorderResult(outcome="ignored")
        logger.append_keys(deploymentId=update.deployment_id)
        client = self._dynamodb_client or aws.dynamodb_client()
        store = StatusStore(table, client, ttl_days=settings.status_ttl_days)
        written = store.record(update)
        outcome = "recorded" if written else "superseded"
        logger.info(
            f"status {outcome}",
            extra={"eventId": event_id, "status": update.status, "eventState": update.event_state},
        )
        return RecorderResult(
            outcome=outcome, deploymentId=update.deployment_id, status=update.status
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
