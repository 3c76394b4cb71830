"""One spelling for instants in results and in the status table: ISO-8601 UTC with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(value: datetime | str | float | None) -> str | None:
    """Render CodeDeploy's times, which boto3 gives as datetimes, as JSON-safe strings.

    Emulators sometimes hand back ISO strings or epoch numbers instead; accept
    those too rather than fail after a deployment that succeeded.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(value: str | None) -> datetime | None:
    """The inverse of :func:`to_iso` (None stays None)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def seconds_between(start: str | None, end: str | None) -> float | None:
    """``end - start`` for two instants as :func:`to_iso` writes them (None if either is)."""
    begun, ended = from_iso(start), from_iso(end)
    return None if begun is None or ended is None else (ended - begun).total_seconds()
