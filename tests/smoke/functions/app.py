"""The function the smoke test deploys: CodeDeploy shifts its alias, nobody invokes it."""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> dict[str, str]:
    return {"hello": "codedeploy-trigger smoke"}
