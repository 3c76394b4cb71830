"""Reach into moto's CodeDeploy backend: move deployments, add error and rollback info.

moto keeps a deployment ``Created`` forever and always answers
``errorInformation: {}``; tests that need a failed deployment set the fields on
the backend object, and :func:`_deployment_info` (patched once, on import)
reports them.
"""

from __future__ import annotations

from typing import Any

from moto.codedeploy import models as codedeploy_models
from moto.codedeploy import responses as codedeploy_responses
from moto.core.models import DEFAULT_ACCOUNT_ID

from shared.timestamps import utc_now

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
_original_deployment_info = codedeploy_responses._deployment_info


def error_information(deployment: Any) -> dict[str, str]:
    """The errorInformation set by :func:`set_status` ({} while it has none)."""
    info: dict[str, str] = getattr(deployment, "error_information", None) or {}
    return info


def _deployment_info_with_details(deployment: Any) -> dict[str, Any]:
    info = _original_deployment_info(deployment)
    info["errorInformation"] = error_information(deployment)
    info["rollbackInfo"] = getattr(deployment, "rollback_info", None) or {}
    return info


codedeploy_responses._deployment_info = _deployment_info_with_details


def backend(region: str = "us-east-1", account: str = ACCOUNT_ID) -> Any:
    return codedeploy_models.codedeploy_backends[account][region]


def deployments(region: str = "us-east-1", account: str = ACCOUNT_ID) -> dict[str, Any]:
    return backend(region, account).deployments  # type: ignore[no-any-return]


def set_status(
    deployment_id: str,
    status: str,
    *,
    error: dict[str, str] | None = None,
    rollback: dict[str, str] | None = None,
    region: str = "us-east-1",
    account: str = ACCOUNT_ID,
) -> None:
    """Move a deployment as CodeDeploy would, stamping start and completion times."""
    deployment = deployments(region, account)[deployment_id]
    deployment.status = status
    if status == "InProgress" and deployment.start_time is None:
        deployment.start_time = utc_now()
    if status in ("Succeeded", "Failed", "Stopped"):
        deployment.complete_time = utc_now()
    if error is not None:
        deployment.error_information = error
    if rollback is not None:
        deployment.rollback_info = rollback
