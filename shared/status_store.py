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
from dataclasses import dataclass
from typing import Any, Literal, cast

from botocore.exceptions import BotoCoreError, ClientError

from shared.status import is_known, statuses_below
from shared.timestamps import to_iso

Source = Literal["event", "api", "trigger"]
SECONDS_PER_DAY = 86_400


class StoreUnavailable(Exception):
    """The table cannot serve (missing, access denied, throttled after retries...)."""


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


@dataclass(frozen=True)
class StatusRecord(StatusUpdate):
    """The item as stored: the last update that won, plus the store's own stamps."""

    updated_at: str | None = None
    expires_at: int | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StatusRecord:
        def text(name: str) -> str | None:
            value = item.get(name)
            return value.get("S") if isinstance(value, dict) else None

        expires = item.get("expiresAt", {}).get("N")
        return cls(
            deployment_id=text("deploymentId") or "",
            status=text("status") or "",
            source=cast(Source, text("source") or "api"),
            event_state=text("eventState"),
            application_name=text("applicationName"),
            deployment_group_name=text("deploymentGroupName"),
            created_at=text("createdAt"),
            completed_at=text("completedAt"),
            updated_at=text("updatedAt"),
            expires_at=int(expires) if expires is not None else None,
        )


class StatusStore:
    """Reads and monotonic writes of the status table (low-level client, no resource layer)."""

    def __init__(
        self,
        table_name: str,
        client: Any,
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
                Key={"deploymentId": {"S": deployment_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(_describe("GetItem", self.table_name, error)) from error
        item = response.get("Item")
        return StatusRecord.from_item(item) if item else None

    def record(self, update: StatusUpdate) -> bool:
        """Write ``update`` unless the item already holds an equal or later status.

        Returns True when written, False when the stored status was already at
        or past it (a duplicate or late event: nothing to do).
        """
        if not is_known(update.status):
            return False
        names, values, assignments = self._assignments(update)
        below = statuses_below(update.status)
        condition = "attribute_not_exists(deploymentId)"
        if below:
            placeholders = [f":below{index}" for index in range(len(below))]
            values.update({p: {"S": s} for p, s in zip(placeholders, below, strict=True)})
            condition += f" OR #status IN ({', '.join(placeholders)})"
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"deploymentId": {"S": update.deployment_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable(_describe("UpdateItem", self.table_name, error)) from error
        except BotoCoreError as error:
            raise StoreUnavailable(_describe("UpdateItem", self.table_name, error)) from error
        return True

    def _assignments(
        self, update: StatusUpdate
    ) -> tuple[dict[str, str], dict[str, Any], list[str]]:
        now = self._wall_clock()
        names = {"#status": "status", "#source": "source"}
        values: dict[str, Any] = {
            ":status": {"S": update.status},
            ":source": {"S": update.source},
            ":updatedAt": {"S": to_iso(now) or ""},
            ":expiresAt": {"N": str(int(now) + self._ttl_seconds)},
        }
        assignments = [
            "#status = :status",
            "#source = :source",
            "updatedAt = :updatedAt",
            "expiresAt = :expiresAt",
        ]
        optional = {
            "eventState": update.event_state,
            "applicationName": update.application_name,
            "deploymentGroupName": update.deployment_group_name,
            "completedAt": update.completed_at,
        }
        for attribute, value in optional.items():
            if value is not None:
                values[f":{attribute}"] = {"S": value}
                assignments.append(f"{attribute} = :{attribute}")
        # The first writer knows createTime best; later writers only fill a gap.
        created_at = update.created_at or to_iso(now) or ""
        values[":createdAt"] = {"S": created_at}
        assignments.append("createdAt = if_not_exists(createdAt, :createdAt)")
        return names, values, assignments


def _describe(operation: str, table: str, error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code"), details.get("Message")
        return f"DynamoDB {operation} on {table} failed ({code}): {message}"
    return f"DynamoDB {operation} on {table} failed: {error}"
