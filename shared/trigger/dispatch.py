"""What the trigger function does, step by step; ``handlers/trigger.py`` only calls it.

validate -> (Terraform delete? skip) -> create or attach -> record ``Created``
-> wait (unless ``wait: false``) -> return, or raise so Terraform fails.

:class:`TriggerService` lives as long as the Lambda container (clients, clock,
sleep); :class:`TriggerRun` lives for one invocation and holds everything that
belongs to it (request, settings, deadline, store, deduplicator, waiter), so no
state of one invocation can leak into the next.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from shared.adapters import clients as aws
from shared.adapters.codedeploy import (
    CodeDeployGateway,
    CreateNotAttempted,
    CreateOutcomeUnknown,
    DeploymentSnapshot,
    same_revision,
)
from shared.adapters.diagnostics import Diagnostics, DiagnosticsCollector, RollbackReport
from shared.adapters.idempotency import (
    DeploymentDeduplicator,
    DuplicateInProgress,
    IdempotencyUnavailable,
)
from shared.adapters.status_store import StatusStore, StatusUpdate, StoreUnavailable
from shared.config import Settings
from shared.contract.request import TriggerRequest, describe_for_log, parse_request
from shared.deadline import Deadline, LambdaContextLike, NoTimeLeft
from shared.errors import (
    ActiveDeploymentConflict,
    CodeDeployError,
    DeploymentFailed,
    DeploymentWaitTimeout,
    InvalidInput,
    StatusTableUnavailable,
)
from shared.observability import logger, metrics
from shared.report.result import (
    TERRAFORM_DELETE_REASON,
    SkippedResult,
    TriggerResult,
    active_ready_message,
    active_timeout_message,
    build_result,
    create_interrupted_message,
    create_outcome_ambiguous_message,
    create_outcome_unknown_message,
    failure_message,
    out_of_time_before_create_message,
    progress_note,
    skipped,
    stop_message,
    timeout_message,
)
from shared.status import MILESTONES, DeploymentStatus, is_known
from shared.timestamps import from_iso, to_iso, utc_now
from shared.trigger.history import HistoryResult, read_history, require_table
from shared.trigger.wait import (
    DeploymentWaiter,
    WaitDeadlineReached,
    WaitOutcome,
    WaitPolicy,
    monotonic_clock,
    real_sleep,
)
from shared.trigger.watchdog import Watchdog

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DUPLICATE_RETRY_SECONDS = 1.0
# CreateDeployment is retried by us, not botocore, and only when CodeDeploy certainly did
# not act (throttled, never connected): botocore-like exponential backoff with full jitter.
CREATE_MAX_ATTEMPTS = 8
CREATE_BACKOFF_CAP_SECONDS = 20.0
# After an ambiguous CreateDeployment, look for the deployment it may have made among the
# group's deployments created since just before the call. The allowance covers clock skew
# between this function and CodeDeploy; the look-ups cover ListDeployments catching up.
CREATE_LOOKUP_SKEW = timedelta(seconds=5)
CREATE_LOOKUP_PAUSES = (1.0, 2.0, 4.0)
# A deployment id repeated in an error: real ids are 11 characters, emulators' 36.
SHOWN_ID_CHARACTERS = 64
STOP_NO_ANSWER = "no answer before the function's deadline"
DIAGNOSTICS_OUT_OF_TIME = "deadline: no time was left to read them"


class TriggerService:
    """Per container: the clients (reused across invocations), the clock and the sleep.

    Clients are injected for tests and made lazily otherwise; settings are read
    per invocation so a bad value fails before anything is created.
    """

    def __init__(
        self,
        *,
        codedeploy: CodeDeployGateway | None = None,
        dynamodb_client: DynamoDBClient | None = None,
        diagnostics: Callable[[Callable[[], float]], DiagnosticsCollector] | None = None,
        clock: Callable[[], float] = monotonic_clock,
        sleep: Callable[[float], None] = real_sleep,
        watchdog: Watchdog | None = None,
    ) -> None:
        self._codedeploy = codedeploy
        self._dynamodb_client = dynamodb_client
        self._diagnostics = diagnostics
        self._clock = clock
        self._sleep = sleep
        self._watchdog = watchdog if watchdog is not None else Watchdog()

    def handle(
        self, event: object, context: LambdaContextLike | None
    ) -> TriggerResult | SkippedResult | HistoryResult:
        logger.remove_keys(["deploymentId"])  # a warm container's previous deployment
        settings = Settings.from_env()
        request = parse_request(event, settings.terraform_key)
        if request.is_terraform_delete:
            logger.info("Terraform delete: nothing to deploy")
            return skipped(TERRAFORM_DELETE_REASON)
        deadline = Deadline(context, settings.deadline_margin)
        watchdog = self._watchdog
        query = request.history
        if query is not None:
            # Reads the table only: no CodeDeploy client is made, nothing is written.
            dynamodb = self._dynamodb_client or aws.bounded_dynamodb(deadline.final_budget)
            store = StatusStore(require_table(settings), dynamodb)
            return watchdog.run(
                deadline.last_watchdog_seconds(),
                lambda: read_history(store, query),
                _history_out_of_time,
            )
        clients = self._clients(deadline)
        run = TriggerRun(
            clients,
            settings,
            request,
            deadline,
            context,
            clock=self._clock,
            sleep=self._sleep,
            on_final_phase=lambda: watchdog.postpone(deadline.last_watchdog_seconds()),
        )
        # The watchdog interrupts a call that outlives its budget anyway (a response
        # trickling in, a resolver that never answers): first at a part of the margin,
        # answered as at the deadline; then, for that answer's own calls, at the very end.
        return watchdog.run(
            deadline.watchdog_seconds(),
            run.run,
            lambda: watchdog.run(
                deadline.last_watchdog_seconds(),
                run.answer_at_deadline,
                run.answer_with_what_is_known,
            ),
        )

    def _clients(self, deadline: Deadline) -> RunClients:
        """Clients whose every call fits in this invocation's time (unless injected)."""
        if self._codedeploy is not None:
            codedeploy = final = self._codedeploy
        else:
            codedeploy = CodeDeployGateway(
                aws.bounded_codedeploy(deadline.wait_budget),
                create_client=aws.bounded_codedeploy_create(deadline.wait_budget),
            )
            final = CodeDeployGateway(
                aws.bounded_codedeploy(deadline.final_budget),
                create_client=aws.bounded_codedeploy_create(deadline.final_budget),
            )
        dynamodb = self._dynamodb_client or aws.bounded_dynamodb(deadline.wait_budget)
        # Diagnostics come after the wait and may use the deadline margin (final budget).
        if self._diagnostics is not None:
            diagnostics = self._diagnostics(deadline.final_budget)
        else:
            diagnostics = DiagnosticsCollector(
                aws.bounded_codedeploy(deadline.final_budget),
                deadline.final_budget,
                ecs=lambda: aws.bounded_ecs(deadline.final_budget),
            )
        return RunClients(codedeploy, final, dynamodb, diagnostics)


@dataclass
class RunProgress:
    """How far one invocation got: what an answer is built from when the watchdog
    interrupts a call (shared/trigger/watchdog.py). Set as the run goes, never cleared by an
    exception, so that an interrupted call leaves what was known."""

    deployment_id: str | None = None
    """Ours, created or attached; set as soon as CreateDeployment returns it."""
    just_created: bool = False
    create_since: datetime | None = None
    """Set when a CreateDeployment may be in flight (cleared once it returned an id)."""
    active_deployment_id: str | None = None
    """The group's deployment being waited for (``onActiveDeployment: "wait"``)."""
    waiter: DeploymentWaiter | None = None
    wait_started: float | None = None
    outcome: WaitOutcome | None = None
    """How the wait ended, once it did."""
    diagnostics: Diagnostics | None = None
    stop_said: str | None = None
    final_phase: bool = False
    """The work inside the margin (last look, StopDeployment, diagnostics) has begun."""


@dataclass(frozen=True)
class RunClients:
    """``codedeploy`` calls end before the deadline margin; ``codedeploy_final`` may use it."""

    codedeploy: CodeDeployGateway
    codedeploy_final: CodeDeployGateway
    dynamodb: DynamoDBClient
    diagnostics: DiagnosticsCollector


class TriggerRun:
    """One invocation: create or attach, wait, and answer."""

    def __init__(
        self,
        clients: RunClients,
        settings: Settings,
        request: TriggerRequest,
        deadline: Deadline,
        context: LambdaContextLike | None,
        *,
        clock: Callable[[], float] = monotonic_clock,
        sleep: Callable[[float], None] = real_sleep,
        on_final_phase: Callable[[], None] = lambda: None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._on_final_phase = on_final_phase
        self.progress = RunProgress()
        self.codedeploy = clients.codedeploy
        self._final_codedeploy = clients.codedeploy_final
        self._diagnostics = clients.diagnostics
        self.settings = settings
        self.request = request
        self.deadline = deadline
        self.store: StatusStore | None = None
        self.deduplicator: DeploymentDeduplicator | None = None
        # Why the deployment returned is an identical request's earlier one; None when this
        # invocation created it or was asked to attach to it.
        self.replay_reason: str | None = None
        if settings.status_table_name is not None:
            self.store = StatusStore(
                settings.status_table_name, clients.dynamodb, ttl_days=settings.status_ttl_days
            )
            if not request.is_attach:
                self.deduplicator = DeploymentDeduplicator(
                    settings.status_table_name,
                    clients.dynamodb,
                    ttl_seconds=settings.idempotency_ttl,
                    context=context,
                )

    def run(self) -> TriggerResult:
        if self.request.deployment_id is not None:
            deployment_id, just_created = self.request.deployment_id, False
            logger.append_keys(deploymentId=deployment_id)
            logger.info("attaching to an existing deployment")
            if self.request.stop_on_timeout:
                # Before any wait, so a refusal arrives at once and nothing is stopped.
                self._require_created_here(deployment_id)
        else:
            deployment_id, just_created = self._create()
        self.progress.deployment_id = deployment_id
        self.progress.just_created = just_created
        if not self.request.wait:
            snapshot = self.codedeploy.get(deployment_id)
            url = self.codedeploy.console_url(deployment_id)
            return build_result(
                snapshot,
                url,
                None,
                wait_until=self.request.wait_until,
                replay_reason=self.replay_reason,
            )
        outcome = self._wait(deployment_id, just_created=just_created)
        return self._answer(outcome)

    def _answer(self, outcome: WaitOutcome) -> TriggerResult:
        self.progress.outcome = outcome
        self._enter_final_phase()
        try:
            return self._finish(outcome)
        except DeploymentFailed:
            # A retry of this request must deploy again, not replay a failure.
            self._forget()
            raise

    def _require_created_here(self, deployment_id: str) -> None:
        """``stopOnTimeout`` on an attached deployment: only if this function created it.

        StopDeployment has no resource type to scope it to (Service Authorization
        Reference), so the role could stop any deployment in the account: the function
        itself must tell its own. The proof is the status table's ``createdBy: trigger``,
        written only right after this function's CreateDeployment returned the id.
        CodeDeploy's own fields cannot prove it (DeploymentInfo names no caller:
        ``creator`` is ``user`` for every CreateDeployment, whoever sent it), but they
        can refute it: another ``creator`` (a rollback, Auto Scaling) or another group
        than the one recorded. Without a table nothing proves it, so it is refused.
        """
        shown = deployment_id[:SHOWN_ID_CHARACTERS]
        keep_waiting = (
            "attach without stopOnTimeout to wait for it, or stop it yourself "
            f"(aws deploy stop-deployment --deployment-id {shown})"
        )
        if self.store is None:
            raise InvalidInput(
                f"stopOnTimeout: cannot tell whether this function created deployment {shown}: "
                "that is known from the status table, and STATUS_TABLE_NAME is not set. Only "
                f"deployments this function created are stopped; {keep_waiting}",
                field="stopOnTimeout",
            )
        try:
            record = self.store.get(deployment_id)
        except StoreUnavailable as error:
            raise StatusTableUnavailable(
                f"stopOnTimeout: cannot tell whether this function created deployment {shown}: "
                f"the status table did not answer ({error}). Nothing was stopped; retry, or "
                f"{keep_waiting}"
            ) from error
        if record is None or not record.created_by_trigger:
            raise InvalidInput(
                f"stopOnTimeout: deployment {shown} was not created by this function (its "
                "status table holds no record of creating it), so it will not be stopped; "
                f"{keep_waiting}",
                field="stopOnTimeout",
            )
        snapshot = self.codedeploy.get(deployment_id)
        recorded = (record.application_name, record.deployment_group_name)
        reported = (snapshot.application_name, snapshot.deployment_group_name)
        if snapshot.creator != "user" or recorded != reported:
            raise InvalidInput(
                f"stopOnTimeout: CodeDeploy does not confirm that this function created "
                f"deployment {shown} (creator {snapshot.creator!r}, group "
                f"{'/'.join(map(str, reported))}; recorded at creation: "
                f"{'/'.join(map(str, recorded))}), so it will not be stopped; {keep_waiting}",
                field="stopOnTimeout",
            )
        logger.info("stopOnTimeout: this function created the deployment; it may stop it")

    def _enter_final_phase(self) -> None:
        """From here on calls may use the margin: the watchdog moves to its last point."""
        if not self.progress.final_phase:
            self.progress.final_phase = True
            self._on_final_phase()

    # --- the store ----------------------------------------------------------------------

    def disable_store(self, error: StoreUnavailable) -> None:
        """Stop using the table for this invocation, and say so once."""
        if self.store is None:
            return
        logger.warning(
            "status table unavailable; polling GetDeployment instead, without duplicate protection",
            extra={"reason": str(error), "pollIntervalSeconds": self.settings.poll_interval},
        )
        self.store = None
        self.deduplicator = None

    def _waiter(self) -> DeploymentWaiter:
        return DeploymentWaiter(
            self.codedeploy,
            self.store,
            WaitPolicy.from_settings(self.settings),
            on_store_unavailable=self.disable_store,
            clock=self._clock,
            sleep=self._sleep,
        )

    # --- create -------------------------------------------------------------------------

    def _create(self) -> tuple[str, bool]:
        """Create the deployment, or find the one an identical request is running."""
        logger.info("creating deployment", extra=describe_for_log(self.request.create_params))
        while True:
            try:
                deployment_id, fresh = self._create_once()
            except ActiveDeploymentConflict as conflict:
                if self.request.on_active_deployment != "wait":
                    raise
                self._wait_for_active(conflict)
                continue
            except DuplicateInProgress as busy:
                # An identical request is inside CreateDeployment right now; its
                # record completes in a moment, then this one attaches to it.
                self._pause(DUPLICATE_RETRY_SECONDS, busy)
                continue
            except IdempotencyUnavailable as error:
                # Raised only before CreateDeployment was sent (a failure after it keeps
                # the deployment or CreateDeployment's own error; shared/adapters/idempotency.py).
                # Same table as the status store: stop using it for this invocation.
                # CodeDeploy's one-active-deployment-per-group rule still stops most
                # duplicates.
                self.disable_store(StoreUnavailable(str(error)))
                continue
            if fresh:
                self._announce_created(deployment_id)
                return deployment_id, True
            if self._replays(deployment_id):
                return deployment_id, False

    def _create_once(self) -> tuple[str, bool]:
        if self.deduplicator is None:
            return self._create_noted(), True
        return self.deduplicator.create_once(self.request.payload, self._create_noted)

    def _create_noted(self) -> str:
        """:meth:`_create_deployment`, with what the watchdog's answer needs: that a
        CreateDeployment may be in flight, then the id it returned (kept even if saving
        the idempotency record afterwards never ends)."""
        self.progress.create_since = utc_now() - CREATE_LOOKUP_SKEW
        try:
            deployment_id = self._create_deployment()
        except Exception:
            # An answer (refused, busy, outcome reported): nothing is in flight any more.
            # The watchdog's interruption is a BaseException and keeps the mark.
            self.progress.create_since = None
            raise
        self.progress.deployment_id, self.progress.just_created = deployment_id, True
        self.progress.create_since = None
        return deployment_id

    def _create_deployment(self) -> str:
        """CreateDeployment, retried only when CodeDeploy certainly did not act."""
        params = self.request.create_params
        since = utc_now() - CREATE_LOOKUP_SKEW
        attempt = 0
        while True:
            try:
                return self.codedeploy.create(params)
            except CreateNotAttempted as refused:
                attempt += 1
                delay = random.uniform(0, min(CREATE_BACKOFF_CAP_SECONDS, 2.0**attempt))
                if attempt >= CREATE_MAX_ATTEMPTS or not self.deadline.allows(delay):
                    raise CodeDeployError(
                        f"CodeDeploy CreateDeployment refused {attempt} times: {refused}",
                        code=refused.code,
                    ) from refused
                logger.warning(
                    "CreateDeployment throttled; retrying",
                    extra={"attempt": attempt, "delaySeconds": round(delay, 3)},
                )
                self._sleep(delay)
            except CreateOutcomeUnknown as unknown:
                return self._adopt_created(unknown, since)

    def _adopt_created(self, unknown: CreateOutcomeUnknown, since: datetime) -> str:
        """After an ambiguous failure, find the deployment this request made, if any."""
        params = self.request.create_params
        app, group = params["applicationName"], params["deploymentGroupName"]
        logger.warning(
            "CreateDeployment outcome unknown; looking for the deployment it may have made",
            extra={"cause": str(unknown)},
        )
        for pause in (0.0, *CREATE_LOOKUP_PAUSES):
            if pause:
                if not self.deadline.allows(pause):
                    break
                self._sleep(pause)
            candidates = [
                info
                for info in self.codedeploy.created_since(app, group, since)
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
                    create_outcome_ambiguous_message(f"{app}/{group}", str(unknown), ids)
                ) from unknown
        raise CodeDeployError(
            create_outcome_unknown_message(f"{app}/{group}", str(unknown), to_iso(since) or "")
        ) from unknown

    def _announce_created(self, deployment_id: str) -> None:
        logger.append_keys(deploymentId=deployment_id)
        url = self.codedeploy.console_url(deployment_id)
        logger.info("deployment created", extra={"consoleUrl": url})
        metrics.add_metric(name="DeploymentsStarted", unit=MetricUnit.Count, value=1)
        self._record_created(deployment_id)

    def _replays(self, deployment_id: str) -> bool:
        """An identical request created ``deployment_id`` earlier: is this a replay of it?

        Only a true duplicate (an SDK resend of Invoke, an async retry) should attach:
        those arrive while the first deployment runs or seconds after it ended. A
        revert to an earlier input, or ``terraform apply -replace`` after the replay
        window, must deploy again.
        """
        snapshot = self.codedeploy.get(deployment_id)
        logger.append_keys(deploymentId=deployment_id)
        replays, reason = self._replay_decision(snapshot)
        if replays:
            logger.info(
                "identical request already created this deployment; returning it",
                extra={"status": snapshot.status, "replayReason": reason},
            )
            self.replay_reason = reason
            return True
        logger.info(
            f"identical request's deployment {reason}; creating a new one",
            extra={"previousStatus": snapshot.status},
        )
        if not self._forget():
            # The record would answer the next create_once with the same deployment again:
            # deploy without duplicate protection (nothing was sent yet).
            self.deduplicator = None
        logger.remove_keys(["deploymentId"])
        return False

    def _replay_decision(self, snapshot: DeploymentSnapshot) -> tuple[bool, str]:
        """Whether to return ``snapshot``'s deployment, and why (or why to deploy again)."""
        if not snapshot.is_terminal:
            return True, (
                f"an identical request created this deployment and it has not ended "
                f"({snapshot.status}); returned it instead of deploying again"
            )
        if snapshot.is_unsuccessful:
            return False, "ended unsuccessfully"
        ended = from_iso(snapshot.completed_at)
        window = timedelta(seconds=self.settings.replay_window)
        if ended is None or utc_now() - ended > window:
            return False, f"ended more than REPLAY_WINDOW_SECONDS ({window.total_seconds():g}s) ago"
        newer = self._newer_deployments(snapshot)
        if newer:
            return False, f"was followed by a newer deployment in the group ({', '.join(newer)})"
        age = max(0.0, (utc_now() - ended).total_seconds())
        return True, (
            f"an identical request's deployment succeeded {age:.0f}s ago, within "
            f"REPLAY_WINDOW_SECONDS ({window.total_seconds():g}s); returned it instead of "
            "deploying again"
        )

    def _newer_deployments(self, snapshot: DeploymentSnapshot) -> list[str]:
        created = from_iso(snapshot.created_at)
        app, group = snapshot.application_name, snapshot.deployment_group_name
        if created is None or app is None or group is None:
            return []
        infos = self.codedeploy.created_since(app, group, created)
        return sorted(
            str(info["deploymentId"])
            for info in infos
            if info.get("deploymentId") != snapshot.deployment_id
        )

    def _forget(self) -> bool:
        """Clear this request's idempotency record; whether it is gone (or there is none)."""
        if self.deduplicator is None:
            return True
        try:
            self.deduplicator.forget(self.request.payload)
        except IdempotencyUnavailable as error:
            # Not fatal, and never in place of the error being raised: the record names a
            # deployment that ended unsuccessfully or too long ago, so an identical retry
            # reads it, sees that, and deploys again.
            logger.warning(
                "could not clear the idempotency record; an identical retry will check the "
                "deployment it names and deploy again",
                extra={"reason": str(error)},
            )
            return False
        return True

    def _pause(self, seconds: float, cause: Exception) -> None:
        if not self.deadline.allows(seconds):
            raise cause
        self._sleep(seconds)

    def _wait_for_active(self, conflict: ActiveDeploymentConflict) -> None:
        """``onActiveDeployment: wait``: let the group's running deployment end first."""
        active = conflict.active_deployment_id
        logger.info(
            "deployment group busy; waiting for the active deployment",
            extra={"activeDeploymentId": active},
        )
        if active is None:
            # CodeDeploy did not name it: retry CreateDeployment after one poll interval.
            self._pause(self.settings.poll_interval, conflict)
            return
        self.progress.active_deployment_id = active
        try:
            outcome = self._waiter().wait(
                active,
                self.deadline,
                just_created=False,
                milestones=frozenset({DeploymentStatus.READY}),
            )
        except WaitDeadlineReached:
            raise DeploymentWaitTimeout(active_timeout_message(active)) from conflict
        self.progress.active_deployment_id = None
        if outcome.snapshot.status == DeploymentStatus.READY:
            # Ready does not end by itself (ContinueDeployment or the group's wait time).
            url = self.codedeploy.console_url(active)
            raise ActiveDeploymentConflict(
                active_ready_message(active, url), active_deployment_id=active
            ) from conflict

    def _record_created(self, deployment_id: str) -> None:
        if self.store is None:
            return
        params = self.request.create_params
        try:
            self.store.record_created(
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
            self.disable_store(error)

    # --- wait and answer ------------------------------------------------------------------

    def _wait(self, deployment_id: str, *, just_created: bool) -> WaitOutcome:
        """Wait for the end or the ``waitUntil`` milestone; at the deadline, fail or hand over."""
        started = self._clock()
        waiter = self._waiter()
        self.progress.waiter, self.progress.wait_started = waiter, started
        try:
            return waiter.wait(
                deployment_id,
                self.deadline,
                just_created=just_created,
                milestones=MILESTONES[self.request.wait_until],
            )
        except WaitDeadlineReached as reached:
            return self._at_deadline(reached, started)

    def _at_deadline(self, reached: WaitDeadlineReached, started: float) -> WaitOutcome:
        """The deadline guard stopped the wait (or the watchdog interrupted it): fail, or
        hand over. Its calls are made inside the margin."""
        self._enter_final_phase()
        deployment_id = reached.deployment_id
        if self.request.on_deadline == "fail":
            raise self._timeout(reached) from None
        # onDeadline "return": one last look, inside the margin, and answer with what it
        # shows (_finish: complete or not); the next invocation attaches and carries on.
        try:
            snapshot = self._final_codedeploy.get(deployment_id)
        except (CodeDeployError, NoTimeLeft) as error:
            if not is_known(reached.last_status):
                raise self._timeout(reached) from None
            # The status seen a moment ago keeps the chain going; a failure it missed
            # is reported by the next invocation.
            logger.warning(
                "last look at the deadline failed; answering with the last status seen",
                extra={"reason": str(error), "lastStatus": reached.last_status},
            )
            snapshot = DeploymentSnapshot(deployment_id, reached.last_status)
        return WaitOutcome(snapshot, "poll", self._clock() - started)

    def _timeout(self, reached: WaitDeadlineReached) -> DeploymentWaitTimeout:
        deployment_id = reached.deployment_id
        stop_said = None
        if self.request.stop_on_timeout:
            # What the watchdog's answer says if StopDeployment never answers.
            self.progress.stop_said = stop_message(None, TimeoutError(STOP_NO_ANSWER))
            stop_said = self.progress.stop_said = self._stop(deployment_id)
        logger.error("deadline reached", extra={"lastStatus": reached.last_status})
        # As far as it is known: where the deployment stands, read within the margin.
        progress = progress_note(self._diagnostics.timeline(deployment_id))
        return DeploymentWaitTimeout(
            timeout_message(
                deployment_id,
                reached.last_status,
                reached.remaining_seconds,
                self.codedeploy.console_url(deployment_id),
                stop_said=stop_said,
                progress=progress,
            )
        )

    def _stop(self, deployment_id: str) -> str:
        try:
            said = self._final_codedeploy.stop(deployment_id, auto_rollback=True)
        except (CodeDeployError, NoTimeLeft) as error:
            logger.exception("StopDeployment failed")
            return stop_message(None, error)
        logger.warning("deployment stopped on timeout", extra={"stopStatus": said})
        return stop_message(said, None)

    def _finish(self, outcome: WaitOutcome) -> TriggerResult:
        snapshot = outcome.snapshot
        url = self.codedeploy.console_url(snapshot.deployment_id)
        result = build_result(
            snapshot,
            url,
            outcome.detected_by,
            wait_until=self.request.wait_until,
            replay_reason=self.replay_reason,
        )
        extra = {
            "status": snapshot.status,
            "detectedBy": outcome.detected_by,
            "waitedSeconds": round(outcome.waited_seconds, 3),
        }
        if not result["complete"]:
            logger.info("deadline reached; handing over to the next invocation", extra=extra)
            return result
        _emit_end_metrics(snapshot, outcome)
        ended = snapshot.is_terminal
        logger.info("deployment ended" if ended else "milestone reached", extra=extra)
        if snapshot.is_unsuccessful:
            raise DeploymentFailed(self._explain(snapshot, url))
        timeline = self._diagnostics.timeline(snapshot.deployment_id)
        return build_result(
            snapshot,
            url,
            outcome.detected_by,
            timeline,
            wait_until=self.request.wait_until,
            replay_reason=self.replay_reason,
        )

    def _explain(self, snapshot: DeploymentSnapshot, url: str) -> str:
        """The failure, its failing targets and hooks, and (``waitForRollback``) the rollback."""
        error = snapshot.error_information or {}
        diagnostics = self._diagnostics.explain(
            snapshot.deployment_id,
            error_code=error.get("code"),
            application_name=snapshot.application_name,
            deployment_group_name=snapshot.deployment_group_name,
        )
        self.progress.diagnostics = diagnostics
        # Counts and reasons only: hook messages and log tails may hold secrets. The error
        # carries them masked (shared/report/result.py), and the Lambda runtime logs the error too.
        logger.info(
            "failure diagnostics collected",
            extra={
                "failingTargets": diagnostics.failing_target_count,
                "diagnosticsCalls": self._diagnostics.calls,
                "diagnosticsUnavailable": diagnostics.unavailable,
            },
        )
        rollback = None
        if self.request.payload.get("waitForRollback", True):
            rollback = self._follow_rollback(snapshot)
        return failure_message(
            snapshot, url, diagnostics, rollback, log_tails_left_out=self._log_tails_left_out()
        )

    def _log_tails_left_out(self) -> str | None:
        """Why log tails stay out of the error, or None. The operator's INCLUDE_LOG_TAILS is a
        ceiling: an input cannot bring back what the function's configuration leaves out."""
        if not self.settings.include_log_tails:
            return "INCLUDE_LOG_TAILS is false"
        if not self.request.include_log_tails:
            return "includeLogTails is false"
        return None

    def _follow_rollback(self, snapshot: DeploymentSnapshot) -> RollbackReport | None:
        """Wait for CodeDeploy's rollback deployment, within the deadline, and say how it ended."""
        rollback_id = (snapshot.rollback_info or {}).get("rollbackDeploymentId")
        if not rollback_id:
            return None
        logger.info(
            "waiting for the rollback deployment", extra={"rollbackDeploymentId": rollback_id}
        )
        try:
            ended = self._waiter().wait(str(rollback_id), self.deadline, just_created=False)
        except WaitDeadlineReached as reached:
            return RollbackReport(
                rollback_id, reached.last_status, waited=True, note="deadline reached"
            )
        except (CodeDeployError, NoTimeLeft) as error:
            logger.warning("could not follow the rollback", extra={"reason": str(error)})
            return RollbackReport(rollback_id, None, waited=True, note=str(error)[:300])
        logger.info(
            "rollback deployment ended",
            extra={"rollbackDeploymentId": rollback_id, "rollbackStatus": ended.snapshot.status},
        )
        return RollbackReport(rollback_id, ended.snapshot.status, waited=True)

    # --- when the watchdog interrupts a call (shared/trigger/watchdog.py) -------------------

    def answer_at_deadline(self) -> TriggerResult:
        """A call of the wait phase outlived its budget: answer as at the deadline.

        Only a deployment being waited for gets calls (the last look with ``onDeadline:
        "return"``, StopDeployment, progress), made inside the margin; the watchdog's
        last point bounds them. Everything else is answered from what is known.
        """
        progress = self.progress
        if progress.final_phase or progress.deployment_id is None or not self.request.wait:
            return self.answer_with_what_is_known()
        started = progress.wait_started if progress.wait_started is not None else self._clock()
        return self._answer(self._at_deadline(self._reached_now(progress.deployment_id), started))

    def answer_with_what_is_known(self) -> TriggerResult:
        """No time for another call: the answer comes from what this invocation has seen."""
        progress = self.progress
        if progress.outcome is not None:
            return self._ended_without_details(progress.outcome)
        if progress.deployment_id is not None:
            return self._still_running(progress.deployment_id)
        if progress.active_deployment_id is not None:
            raise DeploymentWaitTimeout(active_timeout_message(progress.active_deployment_id))
        if progress.create_since is not None:
            params = self.request.create_params
            group = f"{params['applicationName']}/{params['deploymentGroupName']}"
            logger.error("interrupted while a CreateDeployment had no answer yet")
            message = create_interrupted_message(group, to_iso(progress.create_since) or "")
            raise DeploymentWaitTimeout(message)
        logger.error("interrupted before CreateDeployment was sent; nothing was created")
        raise DeploymentWaitTimeout(out_of_time_before_create_message())

    def _reached_now(self, deployment_id: str) -> WaitDeadlineReached:
        waiter = self.progress.waiter
        last = waiter.last_status if waiter is not None else None
        if last is None:
            last = DeploymentStatus.CREATED if self.progress.just_created else "not seen yet"
        return WaitDeadlineReached(deployment_id, last, self.deadline.remaining_seconds())

    def _still_running(self, deployment_id: str) -> TriggerResult:
        """The deployment, as last seen: handed over when the caller allows it, else a
        ``DeploymentWaitTimeout`` naming it."""
        reached = self._reached_now(deployment_id)
        url = self.codedeploy.console_url(deployment_id)
        hand_over = not self.request.wait or self.request.on_deadline == "return"
        if hand_over and is_known(reached.last_status):
            logger.info(
                "deadline reached; handing over with the last status seen",
                extra={"lastStatus": reached.last_status},
            )
            snapshot = DeploymentSnapshot(deployment_id, reached.last_status)
            detected_by = "poll" if self.request.wait else None
            return build_result(snapshot, url, detected_by, wait_until=self.request.wait_until)
        logger.error("deadline reached", extra={"lastStatus": reached.last_status})
        raise DeploymentWaitTimeout(
            timeout_message(
                deployment_id,
                reached.last_status,
                reached.remaining_seconds,
                url,
                stop_said=self.progress.stop_said,
            )
        )

    def _ended_without_details(self, outcome: WaitOutcome) -> TriggerResult:
        """The wait had ended; the details read after it (lifecycle, rollback) are left out."""
        snapshot = outcome.snapshot
        url = self.codedeploy.console_url(snapshot.deployment_id)
        if snapshot.is_unsuccessful:
            diagnostics = self.progress.diagnostics or Diagnostics(
                unavailable=DIAGNOSTICS_OUT_OF_TIME
            )
            raise DeploymentFailed(failure_message(snapshot, url, diagnostics))
        return build_result(snapshot, url, outcome.detected_by, wait_until=self.request.wait_until)


def _history_out_of_time() -> HistoryResult:
    raise StatusTableUnavailable(
        "the status table did not answer before the function's deadline; try again"
    )


def _emit_end_metrics(snapshot: DeploymentSnapshot, outcome: WaitOutcome) -> None:
    # One metric name per status and per path (rather than dimensions) keeps them
    # all in the invocation's single EMF blob, and honours POWERTOOLS_METRICS_DISABLED.
    metrics.add_metric(name="WaitSeconds", unit=MetricUnit.Seconds, value=outcome.waited_seconds)
    metrics.add_metric(name=f"Deployments{snapshot.status}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name=f"DetectedBy{outcome.detected_by.capitalize()}", unit=MetricUnit.Count, value=1
    )
