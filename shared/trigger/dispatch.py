"""What the trigger function does, step by step; ``handlers/trigger.py`` only calls it.

validate -> (Terraform delete? skip) -> (history? read the table) -> start (create or
attach, shared/trigger/start.py) -> wait (unless ``wait: false``, shared/trigger/wait.py)
-> finish: return, or raise so Terraform fails (shared/trigger/finish.py).

:class:`TriggerService` lives as long as the Lambda container (clients, clock);
each invocation gets its own :class:`~shared.trigger.invocation.Invocation`, so no state
of one invocation can leak into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.adapters.clients import Clients, LadderClients
from shared.adapters.codedeploy import CodeDeployGateway
from shared.adapters.status_store import StatusStore
from shared.config import Settings
from shared.contract.request import (
    CreateRequest,
    DeploymentRequest,
    HistoryRequest,
    TerraformDelete,
    parse_request,
)
from shared.deadline import Deadline, LambdaContextLike
from shared.errors import StatusTableUnavailable
from shared.observability import logger
from shared.report.messages import HISTORY_OUT_OF_TIME
from shared.report.result import (
    TERRAFORM_DELETE_REASON,
    HistoryResult,
    SkippedResult,
    TriggerResult,
    skipped,
)
from shared.trigger.clock import SYSTEM_CLOCK, Clock
from shared.trigger.finish import answer_after, answer_without_waiting
from shared.trigger.group_clock import group_clock_budget
from shared.trigger.invocation import Invocation, RunClients, RunProgress
from shared.trigger.start import start
from shared.trigger.table_health import TableHealth
from shared.trigger.wait import wait_for
from shared.trigger.watchdog import Watchdog

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.adapters.diagnostics import DiagnosticsCollector


class TriggerService:
    """Per container: the clients (reused across invocations), the clock (monotonic time and sleep).

    ``clients`` is the one place AWS clients come from (production: bounded clients made
    lazily; tests, the demo and the bench: ``FixedClients``). ``codedeploy`` (a ready
    gateway), ``dynamodb_client`` and ``diagnostics`` (a collector factory) override single
    parts of it, as they did before the seam. Settings are read per invocation so a bad
    value fails before anything is created.
    """

    def __init__(
        self,
        clients: Clients | None = None,
        *,
        codedeploy: CodeDeployGateway | None = None,
        dynamodb_client: DynamoDBClient | None = None,
        diagnostics: Callable[[Callable[[], float]], DiagnosticsCollector] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self._aws: Clients = clients if clients is not None else LadderClients()
        self._codedeploy = codedeploy
        self._dynamodb_client = dynamodb_client
        self._diagnostics = diagnostics
        # The harness and the bench pass the two halves; they become one clock here.
        self._clock: Clock = SYSTEM_CLOCK
        if clock is not None or sleep is not None:
            self._clock = Clock(
                clock if clock is not None else SYSTEM_CLOCK.monotonic,
                sleep if sleep is not None else SYSTEM_CLOCK.sleep,
            )
        self._watchdog = watchdog if watchdog is not None else Watchdog()

    def handle(
        self, event: object, context: LambdaContextLike | None
    ) -> TriggerResult | SkippedResult | HistoryResult:
        logger.remove_keys(["deploymentId"])  # a warm container's previous deployment
        settings = Settings.from_env()
        match parse_request(event, settings.terraform_key):
            case TerraformDelete():
                logger.info("Terraform delete: nothing to deploy")
                return skipped(TERRAFORM_DELETE_REASON)
            case HistoryRequest() as query:
                return self._history(query, settings, Deadline(context, settings.deadline_margin))
            case request:
                return self._deploy(request, settings, context)

    def _history(
        self, query: HistoryRequest, settings: Settings, deadline: Deadline
    ) -> HistoryResult:
        """Reads the table only: no CodeDeploy client is made, nothing is written."""
        # Imported here: only a history request reads it.
        from shared.trigger.history import read_history, require_table

        dynamodb = self._dynamodb_client or self._aws.dynamodb_within(deadline.final_budget)
        store = StatusStore(require_table(settings), dynamodb)
        return self._watchdog.run(
            deadline.last_watchdog_seconds(),
            lambda: read_history(store, query),
            _history_out_of_time,
        )

    def _deploy(
        self, request: DeploymentRequest, settings: Settings, context: LambdaContextLike | None
    ) -> TriggerResult:
        """Create or attach, wait, answer."""
        deadline = Deadline(context, settings.deadline_margin)
        watchdog = self._watchdog
        dynamodb = self._dynamodb_client or self._aws.dynamodb_within(deadline.wait_budget)
        invocation = Invocation(
            request=request,
            settings=settings,
            deadline=deadline,
            clients=self._clients(deadline),
            health=TableHealth.for_invocation(
                settings, dynamodb, context, creates=isinstance(request, CreateRequest)
            ),
            clock=self._clock,
            progress=RunProgress(),
            on_final_phase=lambda: watchdog.postpone(deadline.last_watchdog_seconds()),
        )
        # The watchdog interrupts a call that outlives its budget anyway (a response
        # trickling in, a resolver that never answers): first at a part of the margin,
        # answered as at the deadline; then, for that answer's own calls, at the very end.
        return watchdog.run(
            deadline.watchdog_seconds(),
            lambda: run_invocation(invocation),
            lambda: _interrupted(invocation, watchdog, deadline),
        )

    def _clients(self, deadline: Deadline) -> RunClients:
        """Clients whose every call fits in this invocation's time (unless injected)."""
        aws = self._aws
        brief = None
        if self._codedeploy is not None:
            codedeploy = final = self._codedeploy
        else:
            codedeploy = CodeDeployGateway(
                aws.codedeploy_within(deadline.wait_budget),
                create_client=aws.codedeploy_create_within(deadline.wait_budget),
            )
            final = CodeDeployGateway(
                aws.codedeploy_within(deadline.final_budget),
                create_client=aws.codedeploy_create_within(deadline.final_budget),
            )
            brief = CodeDeployGateway(
                aws.codedeploy_within(lambda: group_clock_budget(deadline.wait_budget()))
            )
        # Diagnostics come after the wait and may use the deadline margin (final budget).
        injected = self._diagnostics

        def diagnostics() -> DiagnosticsCollector:
            if injected is not None:
                return injected(deadline.final_budget)
            from shared.adapters.diagnostics import DiagnosticsCollector

            return DiagnosticsCollector(
                aws.codedeploy_within(deadline.final_budget),
                deadline.final_budget,
                ecs=lambda: aws.ecs_within(deadline.final_budget),
            )

        return RunClients(codedeploy, final, diagnostics, codedeploy_brief=brief)


def run_invocation(inv: Invocation) -> TriggerResult:
    """The steps of one invocation, in order."""
    deployment_id, just_created = start(inv)
    if not inv.options.wait:
        return answer_without_waiting(inv, deployment_id)
    return answer_after(inv, lambda: wait_for(inv, deployment_id, just_created=just_created))


def _interrupted(inv: Invocation, watchdog: Watchdog, deadline: Deadline) -> TriggerResult:
    """The answer when the watchdog interrupted a call. Only then is its module imported."""
    from shared.trigger.interrupted import answer_at_deadline, answer_with_what_is_known

    return watchdog.run(
        deadline.last_watchdog_seconds(),
        lambda: answer_at_deadline(inv),
        lambda: answer_with_what_is_known(inv),
    )


def _history_out_of_time() -> HistoryResult:
    raise StatusTableUnavailable(HISTORY_OUT_OF_TIME)
