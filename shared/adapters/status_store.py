"""The DynamoDB status table: one item per deployment, written monotonically.

Three writers share an item (the recorder from events, the trigger after
CreateDeployment, and the trigger's fallback polls) and events arrive
duplicated and out of order. A single conditional UpdateItem, whose condition
lists the statuses the new one may replace, lets DynamoDB itself keep the item
from ever moving backwards or off a terminal status.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters import status_table as attr
from shared.adapters.aws_errors import aws_failure
from shared.status import is_known, statuses_below
from shared.timestamps import to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.adapters.codedeploy import DeploymentSnapshot

Source = Literal["event", "api", "trigger"]
ControlAction = Literal["READY_WAIT", "TERMINATION_WAIT", "STOP"]
SECONDS_PER_DAY = 86_400


class StoreUnavailable(Exception):
    """The table cannot serve (missing, access denied, throttled after retries...)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        # DynamoDB's error code when it gave one (ResourceNotFoundException...).
        self.code = code


@dataclass(frozen=True)
class StatusUpdate:
    """One observation of a deployment's status, from an event, a poll or the trigger."""

    deployment_id: str
    status: str
    source: Source
    event_state: str | None = None
    application_name: str | None = None
    deployment_group_name: str | None = None
    created_at: str | None = None
    completed_at: str | None = None

    @classmethod
    def from_snapshot(cls, snapshot: DeploymentSnapshot, *, source: Source) -> StatusUpdate:
        """What a GetDeployment showed, as an observation to write."""
        return cls(
            deployment_id=snapshot.deployment_id,
            status=snapshot.status,
            source=source,
            application_name=snapshot.application_name,
            deployment_group_name=snapshot.deployment_group_name,
            created_at=snapshot.created_at,
            completed_at=snapshot.completed_at,
        )


@dataclass(frozen=True)
class StatusRecord(StatusUpdate):
    """The item as stored: the last update that won, plus the store's own stamps."""

    updated_at: str | None = None
    expires_at: int | None = None
    created_by: str | None = None
    """``trigger`` when this table's trigger created the deployment (see :meth:`record_created`)."""

    control_sent_at: dict[str, str] = field(default_factory=dict)
    """Control action -> when this table's trigger sent it (:meth:`StatusStore.claim_control`)."""

    @property
    def created_by_trigger(self) -> bool:
        return self.created_by == attr.CREATED_BY_TRIGGER

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StatusRecord:
        """Decode an item; attributes it lacks (an index entry's unprojected ones) stay None."""

        def text(name: str) -> str | None:
            value = item.get(name)
            return value.get("S") if isinstance(value, dict) else None

        expires = item.get(attr.EXPIRES_AT, {}).get("N")
        return cls(
            deployment_id=text(attr.DEPLOYMENT_ID) or "",
            status=text(attr.STATUS) or "",
            source=cast(Source, text(attr.SOURCE) or "api"),
            event_state=text(attr.EVENT_STATE),
            application_name=text(attr.APPLICATION_NAME),
            deployment_group_name=text(attr.DEPLOYMENT_GROUP_NAME),
            created_at=text(attr.CREATED_AT),
            completed_at=text(attr.COMPLETED_AT),
            updated_at=text(attr.UPDATED_AT),
            expires_at=int(expires) if expires is not None else None,
            created_by=text(attr.CREATED_BY),
            control_sent_at={
                action: sent
                for action, name in attr.CONTROL_SENT_AT.items()
                if (sent := text(name)) is not None
            },
        )


class StatusStore:
    """Reads and monotonic writes of the status table (low-level client, no resource layer)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        *,
        ttl_days: float = 30,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._ttl_seconds = int(ttl_days * SECONDS_PER_DAY)
        self._wall_clock = wall_clock or time.time

    def get(self, deployment_id: str) -> StatusRecord | None:
        """Strongly consistent read, so a status written a moment ago is seen now."""
        try:
            response = self._client.get_item(
                TableName=self.table_name,
                Key={attr.DEPLOYMENT_ID: {"S": deployment_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("GetItem", self.table_name, error) from error
        item = response.get("Item")
        return StatusRecord.from_item(item) if item else None

    def record(self, update: StatusUpdate, *, created_by_trigger: bool = False) -> bool:
        """Write ``update`` unless the item already holds an equal or later status.

        Returns True when written, False when the stored status was already at
        or past it (a duplicate or late event: nothing to do).
        ``created_by_trigger``: see :meth:`record_created`.
        """
        if not is_known(update.status):
            return False
        names, values, assignments = self._assignments(update)
        if created_by_trigger:
            names[f"#{attr.CREATED_BY}"] = attr.CREATED_BY
            values[f":{attr.CREATED_BY}"] = {"S": attr.CREATED_BY_TRIGGER}
            assignments.append(f"#{attr.CREATED_BY} = :{attr.CREATED_BY}")
        below = statuses_below(update.status)
        condition = f"attribute_not_exists({attr.DEPLOYMENT_ID})"
        if below:
            placeholders = [f":below{index}" for index in range(len(below))]
            values.update({p: {"S": s} for p, s in zip(placeholders, below, strict=True)})
            condition += f" OR #{attr.STATUS} IN ({', '.join(placeholders)})"
        return self._update_if(
            update.deployment_id, "SET " + ", ".join(assignments), condition, names, values
        )

    def record_created(self, update: StatusUpdate) -> None:
        """The trigger's record of a deployment its own CreateDeployment made.

        Besides the Created status it marks the item ``createdBy: trigger``, the proof
        ``stopOnTimeout`` asks for before it stops an attached deployment. The mark must
        land even when the recorder's first event got there before us (the Created write
        then loses its condition): a second, unconditional-on-status write adds it.
        """
        if self.record(update, created_by_trigger=True):
            return
        # False: the item expired in between, nothing left to mark.
        self._update_if(
            update.deployment_id,
            f"SET #{attr.CREATED_BY} = :{attr.CREATED_BY}",
            f"attribute_exists({attr.DEPLOYMENT_ID})",
            {f"#{attr.CREATED_BY}": attr.CREATED_BY},
            {f":{attr.CREATED_BY}": {"S": attr.CREATED_BY_TRIGGER}},
        )

    def claim_control(self, deployment_id: str, action: ControlAction) -> bool:
        """Note that this trigger is about to send ``action`` for the deployment: True when
        noted now, False when an earlier invocation noted it already (the first time stays).

        A conditional write, so of two invocations racing for the same deployment only one
        wins. The item must exist: the caller has just read it as proof of creation.
        """
        name = attr.CONTROL_SENT_AT[action]
        return self._update_if(
            deployment_id,
            "SET #sent = :sent",
            f"attribute_exists({attr.DEPLOYMENT_ID}) AND attribute_not_exists(#sent)",
            {"#sent": name},
            {":sent": {"S": to_iso(self._wall_clock()) or ""}},
        )

    def release_control(self, deployment_id: str, action: ControlAction) -> None:
        """Forget a claim whose call CodeDeploy refused, so that a retry sends it again."""
        name = attr.CONTROL_SENT_AT[action]
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={attr.DEPLOYMENT_ID: {"S": deployment_id}},
                UpdateExpression="REMOVE #sent",
                ExpressionAttributeNames={"#sent": name},
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("UpdateItem", self.table_name, error) from error

    def correct(self, seen: StatusRecord, update: StatusUpdate) -> bool:
        """Replace a status CodeDeploy contradicts with CodeDeploy's, even a lower one.

        :meth:`record` never moves an item back, so a terminal status from a forged or
        stray event would stay forever. The trigger's confirming GetDeployment is the
        authority: this overwrites the item only while it still holds ``seen.status``
        (a conditional write, so a newer status written meanwhile by anyone is kept), and
        clears what came with the refuted status (its event state and completion time).
        Returns True when corrected, False when the item had moved on already.
        """
        expression, names, values = _correction(seen, update, self._wall_clock(), self._ttl_seconds)
        return self._update_if(
            update.deployment_id, expression, f"#{attr.STATUS} = :seen", names, values
        )

    def _update_if(
        self,
        deployment_id: str,
        expression: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> bool:
        """One conditional UpdateItem: True when written, False when the condition failed."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={attr.DEPLOYMENT_ID: {"S": deployment_id}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as error:
            if aws_failure(error).code == "ConditionalCheckFailedException":
                return False
            raise _unavailable("UpdateItem", self.table_name, error) from error
        return True

    def group_history(
        self, application_name: str, deployment_group_name: str, limit: int
    ) -> list[StatusRecord]:
        """The group's latest ``limit`` deployments, newest first: one Query on the index.

        Records carry only what the index projects (deploymentId, createdAt,
        status, source, completedAt). GSIs serve eventually consistent reads
        only (API_Query: ConsistentRead is rejected on a global secondary
        index), so a write of the last second may be missing. One page is
        enough: without a filter, Query returns ``Limit`` items unless 1 MB is
        reached first, and 50 index entries stay far below that.
        """
        try:
            response = self._client.query(
                TableName=self.table_name,
                IndexName=attr.BY_GROUP_INDEX,
                KeyConditionExpression="#group = :group",
                ExpressionAttributeNames={"#group": attr.DEPLOYMENT_GROUP_KEY},
                ExpressionAttributeValues={
                    ":group": {
                        "S": attr.deployment_group_key(application_name, deployment_group_name)
                    }
                },
                ScanIndexForward=False,  # descending createdAt: newest first
                Limit=limit,
            )
        except (ClientError, BotoCoreError) as error:
            where = f"{self.table_name} (index {attr.BY_GROUP_INDEX})"
            raise _unavailable("Query", where, error) from error
        return [StatusRecord.from_item(item) for item in response.get("Items", [])]

    def _assignments(
        self, update: StatusUpdate
    ) -> tuple[dict[str, str], dict[str, Any], list[str]]:
        now = self._wall_clock()
        # Placeholders for every name: `status` and `source` are DynamoDB reserved words.
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments: list[str] = []

        def assign(attribute: str, value: dict[str, str], *, keep_first: bool = False) -> None:
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = value
            expression = f"if_not_exists(#{attribute}, :{attribute})" if keep_first else None
            assignments.append(f"#{attribute} = {expression or f':{attribute}'}")

        assign(attr.STATUS, {"S": update.status})
        assign(attr.SOURCE, {"S": update.source})
        assign(attr.UPDATED_AT, {"S": to_iso(now) or ""})
        assign(attr.EXPIRES_AT, {"N": str(int(now) + self._ttl_seconds)})
        optional = {
            attr.EVENT_STATE: update.event_state,
            attr.APPLICATION_NAME: update.application_name,
            attr.DEPLOYMENT_GROUP_NAME: update.deployment_group_name,
            attr.COMPLETED_AT: update.completed_at,
        }
        for attribute, value in optional.items():
            if value is not None:
                assign(attribute, {"S": value})
        if update.application_name and update.deployment_group_name:
            # Puts the item into the group index. Every writer knows both names (the
            # trigger's request, the event's application/deploymentGroup, GetDeployment).
            group = attr.deployment_group_key(update.application_name, update.deployment_group_name)
            assign(attr.DEPLOYMENT_GROUP_KEY, {"S": group})
        # The first writer's createdAt stays: it is the index's sort key, and the
        # first write is the closest to CodeDeploy's createTime we see.
        assign(attr.CREATED_AT, {"S": update.created_at or to_iso(now) or ""}, keep_first=True)
        return names, values, assignments


def _correction(
    seen: StatusRecord, update: StatusUpdate, now: float, ttl_seconds: int
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The UpdateItem of :meth:`StatusStore.correct`: expression, names, values."""
    names = {f"#{name}": name for name in (attr.STATUS, attr.SOURCE, attr.UPDATED_AT)}
    names.update({f"#{attr.EXPIRES_AT}": attr.EXPIRES_AT, "#eventState": attr.EVENT_STATE})
    values: dict[str, Any] = {
        ":status": {"S": update.status},
        ":source": {"S": update.source},
        ":updatedAt": {"S": to_iso(now) or ""},
        ":expiresAt": {"N": str(int(now) + ttl_seconds)},
        ":seen": {"S": seen.status},
    }
    assignments = [
        f"#{attr.STATUS} = :status",
        f"#{attr.SOURCE} = :source",
        f"#{attr.UPDATED_AT} = :updatedAt",
        f"#{attr.EXPIRES_AT} = :expiresAt",
    ]
    removals = ["#eventState"]
    names[f"#{attr.COMPLETED_AT}"] = attr.COMPLETED_AT
    if update.completed_at:
        values[":completedAt"] = {"S": update.completed_at}
        assignments.append(f"#{attr.COMPLETED_AT} = :completedAt")
    else:
        removals.append(f"#{attr.COMPLETED_AT}")
    if update.application_name and update.deployment_group_name:
        # CodeDeploy's names: a forged event may have filed the item under another group.
        for attribute, value in (
            (attr.APPLICATION_NAME, update.application_name),
            (attr.DEPLOYMENT_GROUP_NAME, update.deployment_group_name),
            (
                attr.DEPLOYMENT_GROUP_KEY,
                attr.deployment_group_key(update.application_name, update.deployment_group_name),
            ),
        ):
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = {"S": value}
            assignments.append(f"#{attribute} = :{attribute}")
    expression = f"SET {', '.join(assignments)} REMOVE {', '.join(removals)}"
    return expression, names, values


def _unavailable(operation: str, table: str, error: Exception) -> StoreUnavailable:
    code = aws_failure(error).code if isinstance(error, (ClientError, BotoCoreError)) else None
    return StoreUnavailable(_describe(operation, table, error), code=code)


def _describe(operation: str, table: str, error: Exception) -> str:
    if isinstance(error, ClientError):
        failure = aws_failure(error)
        return f"DynamoDB {operation} on {table} failed ({failure.code}): {failure.message}"
    return f"DynamoDB {operation} on {table} failed: {error}"
