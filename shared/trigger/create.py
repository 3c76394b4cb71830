"""CreateDeployment made safe: retried only when CodeDeploy certainly did not act, the
deployment an ambiguous failure may have made adopted, and the new deployment announced."""

from __future__ import annotations

from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from shared.adapters.backoff import full_jitter
from shared.adapters.codedeploy import CreateNotAttempted, CreateOutcomeUnknown, same_revision
from shared.adapters.status_store import StatusUpdate, StoreUnavailable
from shared.contract.request import CreateRequest
from shared.errors import CodeDeployError
from shared.observability import logger, metrics
from shared.report.messages import create_outcome_ambiguous_message, create_outcome_unknown_message
from shared.status import DeploymentStatus
from shared.timestamps import to_iso, utc_now
from shared.trigger.invocation import Invocation

# CreateDeployment is retried by us, not botocore, and only when CodeDeploy certainly did
# not act (throttled, never connected): botocore-like exponential backoff with full jitter.
CREATE_MAX_ATTEMPTS = 8
CREATE_BACKOFF_CAP_SECONDS = 20.0
# After an ambiguous CreateDeployment, look for the deployment it may have made among the
# group's deployments created since just before the call. The allowance covers clock skew
# between this function and CodeDeploy; the look-ups cover ListDeployments catching up.
CREATE_LOOKUP_SKEW = timedelta(seconds=5)
CREATE_LOOKUP_PAUSES = (1.0, 2.0, 4.0)


def create_noted(inv: Invocation, request: CreateRequest) -> str:
    """:func:`create_deployment`, with what the watchdog's answer needs: that a
    CreateDeployment may be in flight, then the id it returned (kept even if saving
    the idempotency record afterwards never ends)."""
    progress = inv.progress
    progress.create_since = utc_now() - CREATE_LOOKUP_SKEW
    try:
        deployment_id = create_deployment(inv, request)
    except Exception:
        # An answer (refused, busy, outcome reported): nothing is in flight any more.
        # The watchdog's interruption is a BaseException and keeps the mark.
        progress.create_since = None
        raise
    progress.deployment_id, progress.just_created = deployment_id, True
    progress.create_since = None
    return deployment_id


def create_deployment(inv: Invocation, request: CreateRequest) -> str:
    """CreateDeployment, retried only when CodeDeploy certainly did not act."""
    params = request.create_params
    since = utc_now() - CREATE_LOOKUP_SKEW
    attempt = 0
    while True:
        try:
            return inv.codedeploy.create(params)
        except CreateNotAttempted as refused:
            attempt += 1
            delay = full_jitter(attempt, CREATE_BACKOFF_CAP_SECONDS)
            if attempt >= CREATE_MAX_ATTEMPTS or not inv.deadline.allows(delay):
                raise CodeDeployError(
                    f"CodeDeploy CreateDeployment refused {attempt} times: {refused}",
                    code=refused.code,
                ) from refused
            logger.warning(
                "CreateDeployment throttled; retrying",
                extra={"attempt": attempt, "delaySeconds": round(delay, 3)},
            )
            inv.clock.sleep(delay)
        except CreateOutcomeUnknown as unknown:
            return adopt_created(inv, request, unknown, since)


def adopt_created(
    inv: Invocation, request: CreateRequest, unknown: CreateOutcomeUnknown, since: datetime
) -> str:
    """After an ambiguous failure, find the deployment this request made, if any."""
    params = request.create_params
    app, group = request.application_name, request.deployment_group_name
    logger.warning(
        "CreateDeployment outcome unknown; looking for the deployment it may have made",
        extra={"cause": str(unknown)},
    )
    for pause in (0.0, *CREATE_LOOKUP_PAUSES):
        if pause:
            if not inv.deadline.allows(pause):
                break
            inv.clock.sleep(pause)
        candidates = [
            info
            for info in inv.codedeploy.created_since(app, group, since)
            if same_revision(params["revision"], info.get("revision"))
            and info.get("description") == params.get("description")
            and info.get("creator", "user") == "user"
        ]
        if len(candidates) == 1:
            deployment_id = str(candidates[0]["deploymentId"])
            logger.info(
                "found the deployment the ambiguous CreateDeployment made; adopting it",
                extra={"adoptedDeploymentId": deployment_id},
            )
            return deployment_id
        if len(candidates) > 1:
            ids = sorted(str(info["deploymentId"]) for info in candidates)
            raise CodeDeployError(
                create_outcome_ambiguous_message(request.group, str(unknown), ids)
            ) from unknown
    raise CodeDeployError(
        create_outcome_unknown_message(request.group, str(unknown), to_iso(since) or "")
    ) from unknown


def announce_created(inv: Invocation, request: CreateRequest, deployment_id: str) -> None:
    logger.append_keys(deploymentId=deployment_id)
    url = inv.codedeploy.console_url(deployment_id)
    logger.info("deployment created", extra={"consoleUrl": url})
    metrics.add_metric(name="DeploymentsStarted", unit=MetricUnit.Count, value=1)
    record_created(inv, request, deployment_id)


def record_created(inv: Invocation, request: CreateRequest, deployment_id: str) -> None:
    store = inv.health.store
    if store is None:
        return
    try:
        store.record_created(
            StatusUpdate(
                deployment_id=deployment_id,
                status=DeploymentStatus.CREATED,
                source="trigger",
                application_name=request.application_name,
                deployment_group_name=request.deployment_group_name,
            )
        )
    except StoreUnavailable as error:
        # The deployment exists; losing its Created record only costs speed.
        inv.health.lose(error)
