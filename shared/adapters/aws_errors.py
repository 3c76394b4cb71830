"""One view of any botocore failure: what AWS (or botocore) said, read in one place.

``ClientError.response`` carries ``Error.Code``, ``Error.Message`` and
``ResponseMetadata.HTTPStatusCode`` (botocore ``exceptions.py`` / ``parsers.py``); a
``BotoCoreError`` (connection, timeout, parameter validation) has none of them. Each adapter
words its own error from this view.
"""

from __future__ import annotations

from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError


class AwsFailure(NamedTuple):
    """What one failed call said, as far as it said anything."""

    code: str | None
    """AWS's error code; None when no response came (a BotoCoreError)."""
    message: str
    """AWS's message as sent ("" when none)."""
    http_status: int
    """0 when no response came."""


def aws_failure(error: ClientError | BotoCoreError) -> AwsFailure:
    if not isinstance(error, ClientError):
        return AwsFailure(None, "", 0)
    details = error.response.get("Error", {})
    code = details.get("Code")
    return AwsFailure(
        str(code) if code is not None else None,
        str(details.get("Message", "")),
        int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)),
    )
