"""What the recorder function does: CodeDeploy state-change event in, one status write out.

The recorder is reachable by more than its EventBridge rule: anyone allowed to
invoke it, and any bus that forwards other accounts' events to it. So an event
is written only when it is one of ours (our account and region, or an origin
in ``RECORDER_ALLOWED_EVENT_ORIGINS``) and well-formed within the bounds
CodeDeploy itself keeps; everything else is logged and dropped, never raised,
so it cannot loop through the retries into the dead-letter queue.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from shared.adapters import clients as aws
from shared.adapters.status_store import StatusStore, StatusUpdate
from shared.config import EventOrigin, Settings, allowed_event_origins
from shared.deadline import FINAL_RESERVE_SECONDS, Deadline
from shared.errors import ConfigurationError
from shared.observability import logger
from shared.status import EVENT_STATE_TO_STATUS, is_terminal
from shared.timestamps import to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SOURCE = "aws.codedeploy"
DEPLOYMENT_DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"

# What CodeDeploy itself allows, so that nothing larger reaches the table. Names: botocore
# model shapes ApplicationName / DeploymentGroupName (1-100 characters of this set). Ids:
# the model gives DeploymentId no pattern; real ids are "d-" and 9 upper-case letters or
# digits, emulators' are UUIDs (36 characters). 64 characters of letters, digits and "-"
# admit both, and keep every partition key far below DynamoDB's 2048 bytes and apart
# from the idempotency records' keys (which hold ":" and "#"). With these bounds a status
# item stays under 1 KB, so no event can push it towards DynamoDB's 400 KB item limit.
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,100}$")
_DEPLOYMENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_SHOWN_CHARACTERS = 64
"""How much of a value from an event a log line or a reason repeats."""


class RecorderResult(TypedDict, total=False):
    outcome: str  # recorded | superseded | ignored | foreign | malformed
    deploymentId: str
    status: str


class MalformedEvent(ValueError):
    """A CodeDeploy deployment event we cannot map: logged, never retried."""


class RecorderContext(Protocol):
    """What the recorder reads from the Lambda context: its ARN and the time left."""

    @property
    def invoked_function_arn(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


def home_origin(context: RecorderContext) -> EventOrigin:
    """The recorder's own account and region.

    The account is the 5th field of the function's ARN (``arn:partition:lambda:region:
    account:function:name``; Lambda developer guide, "Lambda context object in Python":
    ``invoked_function_arn``); the region is ``AWS_REGION``, which Lambda sets to the
    region the function runs in (developer guide, "Defined runtime environment
    variables"), else the ARN's 4th field.
    """
    fields = str(context.invoked_function_arn).split(":")
    if len(fields) < 7 or fields[0] != "arn" or not fields[4]:
        raise ConfigurationError(
            "the recorder cannot tell its own account: its Lambda context's invoked_function_arn "
            f"{_shown(context.invoked_function_arn)} is not a function ARN"
        )
    return EventOrigin(account=fields[4], region=os.environ.get("AWS_REGION") or fields[3])


def parse_event(event: Mapping[str, Any]) -> StatusUpdate | None:
    """The status update an EventBridge event carries, or None for events not ours.

    Raises :class:`MalformedEvent` for a CodeDeploy deployment event that lacks a
    deployment id, carries an unknown state or an unreadable time, or holds a value
    outside what CodeDeploy allows.
    """
    if not is_deployment_event(event):
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail is missing or not an object")
    deployment_id = detail.get("deploymentId")
    if not isinstance(deployment_id, str) or not deployment_id:
        raise MalformedEvent("detail.deploymentId is missing")
    if not _DEPLOYMENT_ID.match(deployment_id):
        raise MalformedEvent(
            f"detail.deploymentId {_shown(deployment_id)} ({len(deployment_id)} characters) is "
            "not a deployment id: 1-64 letters, digits or '-'"
        )
    state = detail.get("state")
    status = EVENT_STATE_TO_STATUS.get(state) if isinstance(state, str) else None
    if status is None:
        raise MalformedEvent(
            f"detail.state {_shown(state)} is not one of {', '.join(EVENT_STATE_TO_STATUS)}"
        )
    event_time = _event_time(event.get("time"))
    return StatusUpdate(
        deployment_id=deployment_id,
        status=status,
        source="event",
        event_state=state,
        # Both names put the item into the status table's group index, also for
        # deployments started outside Terraform (console, pipelines).
        application_name=_name(detail, "application"),
        deployment_group_name=_name(detail, "deploymentGroup"),
        # Only the first write's createdAt is kept (the trigger's, for deployments it
        # started): a deployment known from events only is dated by its first event.
        created_at=event_time,
        completed_at=event_time if is_terminal(status) else None,
    )


def is_deployment_event(event: Mapping[str, Any]) -> bool:
    return event.get("source") == SOURCE and event.get("detail-type") == DEPLOYMENT_DETAIL_TYPE


def foreign_origin(
    event: Mapping[str, Any], home: EventOrigin, allowed: tuple[EventOrigin, ...]
) -> str | None:
    """Why the event is not ours to record, or None when it is.

    EventBridge fills ``account`` and ``region`` with where the event happened (EventBridge
    user guide, "Amazon service event metadata"); CodeDeploy repeats the region in
    ``detail.region``. A forwarded bus keeps them, so another account's event says so.
    """
    account, region = event.get("account"), event.get("region")
    detail = event.get("detail")
    detail_region = detail.get("region") if isinstance(detail, Mapping) else None
    if detail_region is not None and detail_region != region:
        return f"detail.region {_shown(detail_region)} differs from region {_shown(region)}"
    if home.admits(account, region) or any(o.admits(account, region) for o in allowed):
        return None
    return (
        f"event from account {_shown(account)}, region {_shown(region)}: this recorder records "
        f"its own ({home}) and those in RECORDER_ALLOWED_EVENT_ORIGINS only"
    )


class RecorderService:
    """Maps one event and writes it; DynamoDB errors propagate so EventBridge retries.

    ``home`` is the recorder's own origin when no Lambda context tells it (library use:
    tests, the benchmark); in Lambda the context's ARN always decides.
    """

    def __init__(
        self,
        clients: aws.RecorderClients | None = None,
        *,
        dynamodb_client: DynamoDBClient | None = None,
        home: EventOrigin | None = None,
    ) -> None:
        """``clients`` is where the DynamoDB client comes from (production: bounded by the
        function's time left); ``dynamodb_client`` overrides it with a ready client."""
        self._aws: aws.RecorderClients = (
            clients if clients is not None else aws.RecorderLadderClients()
        )
        self._dynamodb_client = dynamodb_client
        self._home = home

    def handle(self, event: object, context: RecorderContext | None = None) -> RecorderResult:
        settings = Settings.from_env()
        table = settings.require_status_table()
        allowed = allowed_event_origins()
        home = self._home_origin(context)
        if not isinstance(event, Mapping):
            logger.error(
                "event is not an object; ignored", extra={"eventType": type(event).__name__}
            )
            return RecorderResult(outcome="malformed")
        event_id = _logged(event.get("id"))
        if not is_deployment_event(event):
            logger.info(
                "not a deployment state-change event; ignored",
                extra={
                    "eventId": event_id,
                    "source": _logged(event.get("source")),
                    "detailType": _logged(event.get("detail-type")),
                },
            )
            return RecorderResult(outcome="ignored")
        refused = foreign_origin(event, home, allowed)
        if refused is not None:
            # A forwarded bus or a direct invoke: recording it could end a wait with a
            # status CodeDeploy never had in this account.
            logger.warning(
                "CodeDeploy event from another account or region; ignored",
                extra={"eventId": event_id, "reason": refused},
            )
            return RecorderResult(outcome="foreign")
        try:
            update = parse_event(event)
        except MalformedEvent as error:
            # Raising would only replay a poison event through every retry.
            logger.error(
                "malformed CodeDeploy event; ignored",
                extra={"eventId": event_id, "reason": str(error)},
            )
            return RecorderResult(outcome="malformed")
        assert update is not None  # is_deployment_event held
        logger.append_keys(deploymentId=update.deployment_id)
        store = StatusStore(table, self._client(context), ttl_days=settings.status_ttl_days)
        written = store.record(update)
        outcome = "recorded" if written else "superseded"
        logger.info(
            f"status {outcome}",
            extra={"eventId": event_id, "status": update.status, "eventState": update.event_state},
        )
        return RecorderResult(
            outcome=outcome, deploymentId=update.deployment_id, status=update.status
        )

    def _home_origin(self, context: RecorderContext | None) -> EventOrigin:
        if context is not None:
            return home_origin(context)
        if self._home is not None:
            return self._home
        raise ConfigurationError(
            "the recorder needs its Lambda context (or an explicit home origin) to know which "
            "account's and region's events it records"
        )

    def _client(self, context: RecorderContext | None) -> DynamoDBClient:
        if self._dynamodb_client is not None:
            return self._dynamodb_client
        # Every write must fail before the function's timeout, so the delivery is retried
        # instead of the function being killed mid-call.
        deadline = Deadline(context, FINAL_RESERVE_SECONDS)
        return self._aws.dynamodb_within(deadline.wait_budget)


def _event_time(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"time {_shown(value)} is not an ISO-8601 string")
    try:
        return to_iso(value)
    except (ValueError, OverflowError):
        raise MalformedEvent(f"time {_shown(value)} is not an ISO-8601 timestamp") from None


def _name(detail: Mapping[str, Any], key: str) -> str | None:
    value = detail.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _NAME.match(value):
        size = f" ({len(value)} characters)" if isinstance(value, str) else ""
        raise MalformedEvent(
            f"detail.{key} {_shown(value)}{size} is not a CodeDeploy name: 1-100 characters "
            "of A-Za-z0-9+=,.@_-"
        )
    return value


def _shown(value: object) -> str:
    """A value from an event as a log line or a reason may repeat it: short and quoted."""
    text = repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return text[: _SHOWN_CHARACTERS - 3] + "..."


def _logged(value: object) -> object:
    """A value from an event as a log field: as it is when short, else cut (JSON-safe)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= _SHOWN_CHARACTERS:
        return value
    return _shown(value)
