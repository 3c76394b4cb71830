"""What the trigger function does, step by step; ``handlers/trigger.py`` only calls it.

validate -> (Terraform delete? skip) -> create or attach -> record ``Created``
-> wait (unless ``wait: false``) -> return, or raise so Terraform fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from shared import aws
from shared.codedeploy import CodeDeployGateway, DeploymentSnapshot
from shared.config import Settings
from shared.contract import TriggerRequest, parse_request
from shared.errors import ActiveDeploymentConflict, DeploymentFailed, DeploymentWaitTimeout
from shared.idempotency import DeploymentDeduplicator
from shared.observability import logger, metrics
from shared.result import SkippedResult, TriggerResult, build_result, failure_message, skipped
from shared.status import DeploymentStatus
from shared.status_store import StatusStore, StatusUpdate, StoreUnavailable
from shared.waiter import (
    Deadline,
    DeploymentWaiter,
    LambdaContextLike,
    WaitDeadlineReached,
    WaitOutcome,
    monotonic_clock,
    real_sleep,
)

DUPLICATE_RETRY_SECONDS = 1.0


class TriggerService:
    """Creates or attaches to a deployment and waits for it.

    Clients are injected for tests and made lazily otherwise; settings are
    read per invocation so a bad value fails before anything is created.
    """

    def __init__(
        self,
        *,
        codedeploy: CodeDeployGateway | None = None,
        dynamodb_client: Any | None = None,
        clock: Callable[[], float] = monotonic_clock,
        sleep: Callable[[float], None] = real_sleep,
    ) -> None:
        self._codedeploy = codedeploy
        self._dynamodb_client = dynamodb_client
        self._clock = clock
        self._sleep = sleep

    @property
    def codedeploy(self) -> CodeDeployGateway:
        if self._codedeploy is None:
            self._codedeploy = CodeDeployGateway(aws.codedeploy_client())
        return self._codedeploy

    def handle(
        self, event: object, context: LambdaContextLike | None
    ) -> TriggerResult | SkippedResult:
        logger.remove_keys(["deploymentId"])  # a warm container's previous deployment
        settings = Settings.from_env()
        request = parse_request(event, settings.terraform_key)
        if request.is_terraform_delete:
            logger.info("Terraform delete: nothing to deploy")
            return skipped(
                "Terraform is destroying or replacing this aws_lambda_invocation; "
                "no deployment was created"
            )
        deadline = Deadline(context)
        waiter = DeploymentWaiter(
            self.codedeploy, self._store(settings), settings, clock=self._clock, sleep=self._sleep
        )
        deduplicator = None
        if request.deployment_id is not None:
            deployment_id = request.deployment_id
            logger.append_keys(deploymentId=deployment_id)
            logger.info("attaching to an existing deployment")
        else:
            deduplicator = self._deduplicator(settings, waiter, context)
            deployment_id = self._create(request, waiter, deadline, deduplicator)
        if not request.wait:
            snapshot = self.codedeploy.get(deployment_id)
            return build_result(snapshot, self.codedeploy.console_url(deployment_id), None)
        outcome = self._wait(request, waiter, deployment_id, deadline)
        try:
            return self._finish(outcome)
        except DeploymentFailed as failed:
            if deduplicator is not None:
                # A retry of this request must deploy again, not replay a failure.
                self._forget(deduplicator, request, failed)
            raise

    def _store(self, settings: Settings) -> StatusStore | None:
        if settings.status_table_name is None:
            return None
        client = self._dynamodb_client or aws.dynamodb_client()
        return StatusStore(settings.status_table_name, client, ttl_days=settings.status_ttl_days)

    def _deduplicator(
        self, settings: Settings, waiter: DeploymentWaiter, context: object
    ) -> DeploymentDeduplicator | None:
        store = waiter.store
        if store is None:
            return None  # no table: no protection against duplicate invocations
        client = self._dynamodb_client or aws.dynamodb_client()
        return DeploymentDeduplicator(
            store.table_name, client, ttl_seconds=settings.idempotency_ttl, context=context
        )

    def _create(
        self,
        request: TriggerRequest,
        waiter: DeploymentWaiter,
        deadline: Deadline,
        deduplicator: DeploymentDeduplicator | None,
    ) -> str:
        params = request.create_params
        logger.info("creating deployment", extra=_describe_request(params))
        while True:
            try:
                deployment_id, fresh = self._create_once(request, deduplicator)
            except ActiveDeploymentConflict as conflict:
                if request.on_active_deployment != "wait":
                    raise
                self._wait_for_active(conflict, waiter, deadline)
                continue
            except IdempotencyAlreadyInProgressError as busy:
                # An identical request is inside CreateDeployment right now; its
                # record completes in a moment, then this one attaches to it.
                self._pause(deadline, DUPLICATE_RETRY_SECONDS, waiter, busy)
                continue
            except IdempotencyPersistenceLayerError as error:
                # Same table as the status store: stop using it for this invocation,
                # and say so once. CodeDeploy's one-active-deployment-per-group rule
                # still stops most duplicates.
                waiter.disable_store(StoreUnavailable(f"idempotency records: {error}"))
                deduplicator = None
                continue
            if fresh or deduplicator is None:
                break
            if self._reusable(deployment_id, request, deduplicator):
                return deployment_id
        logger.append_keys(deploymentId=deployment_id)
        url = self.codedeploy.console_url(deployment_id)
        logger.info("deployment created", extra={"consoleUrl": url})
        metrics.add_metric(name="DeploymentsStarted", unit=MetricUnit.Count, value=1)
        self._record_created(waiter, deployment_id, params)
        return deployment_id

    def _create_once(
        self, request: TriggerRequest, deduplicator: DeploymentDeduplicator | None
    ) -> tuple[str, bool]:
        def create() -> str:
            return self.codedeploy.create(request.create_params)

        if deduplicator is None:
            return create(), True
        return deduplicator.create_once(request.payload, create)

    def _reusable(
        self, deployment_id: str, request: TriggerRequest, deduplicator: DeploymentDeduplicator
    ) -> bool:
        """An identical request created ``deployment_id`` earlier: attach unless it failed."""
        snapshot = self.codedeploy.get(deployment_id)
        logger.append_keys(deploymentId=deployment_id)
        if not snapshot.is_unsuccessful:
            logger.info(
                "identical request already created this deployment; attaching to it",
                extra={"status": snapshot.status},
            )
            return True
        logger.info(
            "identical request's deployment ended unsuccessfully; creating a new one",
            extra={"previousStatus": snapshot.status},
        )
        self._forget(deduplicator, request, DeploymentFailed(snapshot.status))
        logger.remove_keys(["deploymentId"])
        return False

    def _forget(
        self, deduplicator: DeploymentDeduplicator, request: TriggerRequest, reason: Exception
    ) -> None:
        try:
            deduplicator.forget(request.payload, reason)
        except Exception as error:
            # Not fatal: the record expires after IDEMPOTENCY_TTL_SECONDS anyway.
            logger.warning(
                "could not clear the idempotency record; an identical retry will attach to "
                "the failed deployment until it expires",
                extra={"reason": str(error)},
            )

    def _pause(
        self, deadline: Deadline, seconds: float, waiter: DeploymentWaiter, cause: Exception
    ) -> None:
        if deadline.remaining_seconds() < waiter.deadline_margin + seconds:
            raise cause
        self._sleep(seconds)

    def _wait_for_active(
        self, conflict: ActiveDeploymentConflict, waiter: DeploymentWaiter, deadline: Deadline
    ) -> None:
        """``onActiveDeployment: wait``: let the group's running deployment end first."""
        active = conflict.active_deployment_id
        logger.info(
            "deployment group busy; waiting for the active deployment",
            extra={"activeDeploymentId": active},
        )
        if active is None:
            # CodeDeploy did not name it: retry CreateDeployment after one poll interval.
            self._pause(deadline, waiter.poll_interval, waiter, conflict)
            return
        try:
            waiter.wait(active, deadline, just_created=False)
        except WaitDeadlineReached:
            raise DeploymentWaitTimeout(
                f"gave up waiting for active deployment {active} in the deployment group to end "
                "before creating ours: the function is about to run out of time. Nothing was "
                "created; apply again once it has ended."
            ) from conflict

    def _record_created(
        self, waiter: DeploymentWaiter, deployment_id: str, params: dict[str, Any]
    ) -> None:
        store = waiter.store
        if store is None:
            return
        try:
            store.record(
                StatusUpdate(
                    deployment_id=deployment_id,
                    status=DeploymentStatus.CREATED,
                    source="trigger",
                    application_name=params.get("applicationName"),
                    deployment_group_name=params.get("deploymentGroupName"),
                )
            )
        except StoreUnavailable as error:
            # The deployment exists; losing its Created record only costs speed.
            waiter.disable_store(error)

    def _wait(
        self,
        request: TriggerRequest,
        waiter: DeploymentWaiter,
        deployment_id: str,
        deadline: Deadline,
    ) -> WaitOutcome:
        try:
            return waiter.wait(
                deployment_id,
                deadline,
                just_created=not request.is_attach,
            )
        except WaitDeadlineReached as reached:
            raise self._timeout(request, reached) from None

    def _timeout(
        self, request: TriggerRequest, reached: WaitDeadlineReached
    ) -> DeploymentWaitTimeout:
        deployment_id = reached.deployment_id
        url = self.codedeploy.console_url(deployment_id)
        resume = json.dumps({"deploymentId": deployment_id})
        message = (
            f"stopped waiting for CodeDeploy deployment {deployment_id} (last status "
            f"{reached.last_status}) with {reached.remaining_seconds:.0f}s left before the "
            f"Lambda timeout. "
        )
        if request.stop_on_timeout:
            message += self._stop(deployment_id)
        else:
            message += (
                "The deployment keeps running in CodeDeploy. To wait for it again, invoke the "
                f"trigger with {resume}, or raise the function's timeout. "
            )
        logger.error("deadline reached", extra={"lastStatus": reached.last_status})
        return DeploymentWaitTimeout(message + f"Console: {url}")

    def _stop(self, deployment_id: str) -> str:
        try:
            said = self.codedeploy.stop(deployment_id, auto_rollback=True)
        except Exception as error:
            logger.exception("StopDeployment failed")
            return (
                f"stopOnTimeout is set but StopDeployment failed, so the deployment may still be "
                f"running: {error}. "
            )
        logger.warning("deployment stopped on timeout", extra={"stopStatus": said})
        return (
            "stopOnTimeout is set: StopDeployment was called with autoRollbackEnabled=true "
            f"(CodeDeploy said: {said}); the deployment is being stopped and rolled back. "
        )

    def _finish(self, outcome: WaitOutcome) -> TriggerResult:
        snapshot = outcome.snapshot
        url = self.codedeploy.console_url(snapshot.deployment_id)
        _emit_end_metrics(snapshot, outcome)
        logger.info(
            "deployment ended",
            extra={
                "status": snapshot.status,
                "detectedBy": outcome.detected_by,
                "waitedSeconds": round(outcome.waited_seconds, 3),
            },
        )
        if snapshot.is_unsuccessful:
            raise DeploymentFailed(failure_message(snapshot, url))
        return build_result(snapshot, url, outcome.detected_by)


def _emit_end_metrics(snapshot: DeploymentSnapshot, outcome: WaitOutcome) -> None:
    # One metric name per status and per path (rather than dimensions) keeps them
    # all in the invocation's single EMF blob, and honours POWERTOOLS_METRICS_DISABLED.
    metrics.add_metric(name="WaitSeconds", unit=MetricUnit.Seconds, value=outcome.waited_seconds)
    metrics.add_metric(name=f"Deployments{snapshot.status}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name=f"DetectedBy{outcome.detected_by.capitalize()}", unit=MetricUnit.Count, value=1
    )


def _describe_request(params: dict[str, Any]) -> dict[str, Any]:
    """What is safe to log about a request: never the appspec itself (it may hold secrets)."""
    revision = params.get("revision", {})
    described: dict[str, Any] = {
        "applicationName": params.get("applicationName"),
        "deploymentGroupName": params.get("deploymentGroupName"),
        "revisionType": revision.get("revisionType"),
    }
    for location in ("appSpecContent", "string"):
        content = revision.get(location, {}).get("content")
        if content is not None:
            described["contentSha256"] = hashlib.sha256(content.encode()).hexdigest()
            described["contentLength"] = len(content)
    return described
