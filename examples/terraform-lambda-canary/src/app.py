"""The function CodeDeploy shifts traffic to: it answers with its configured message."""

from __future__ import annotations

import os
from typing import Any


def handler(event: Any, context: Any) -> dict[str, str]:
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    # A template naming an unknown field raises KeyError: the BeforeAllowTraffic hook catches
    # that before any traffic reaches the new version.
    message = os.environ["MESSAGE_TEMPLATE"].format(version=version)
    return {"message": message, "version": version}
