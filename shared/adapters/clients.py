"""boto3 clients, made once per container and only when first needed, sized to the time left.

Lazy creation keeps cold starts short (a ``wait: false`` or Terraform ``delete``
invocation may never need DynamoDB). Every call must also end before the
invocation's deadline: botocore's standard retry mode repeats a call after a
read timeout, a connection error or a 5xx (botocore ``retries/standard.py``),
so with 10 attempts and a 30 s read timeout one stalled GetDeployment could
last minutes. A :class:`ClientLadder` therefore keeps one client per
:class:`CallPolicy`, from patient to brief, and hands out the most patient one
whose worst case still fits the caller's budget. The region and
``AWS_ENDPOINT_URL`` come from the environment, as boto3 reads them, so the same
code runs in Lambda and against a local emulator.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar, cast

import boto3
from botocore.config import Config

from shared.adapters.backoff import worst_case
from shared.deadline import NoTimeLeft

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_dynamodb import DynamoDBClient

ClientT = TypeVar("ClientT")


class CallPolicy(NamedTuple):
    """Retries and timeouts of one client, and how long a call can take at worst with them."""

    max_attempts: int
    connect_timeout: float
    read_timeout: float

    def worst_case_seconds(self) -> float:
        backoff = worst_case(self.max_attempts)
        return self.max_attempts * (self.connect_timeout + self.read_timeout) + backoff

    def config(self) -> Config:
        return Config(
            # total_max_attempts counts the first try; botocore's max_attempts would not.
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


# CodeDeploy publishes no rate limits; ThrottlingException is the only signal, so with
# time to spare a call rides out long throttling (10 attempts), and less patient ones
# take over as the deadline nears.
CODEDEPLOY_POLICIES = (
    CallPolicy(10, 5, 30),
    CallPolicy(5, 3, 10),
    CallPolicy(3, 2, 5),
    CallPolicy(2, 1, 3),
    CallPolicy(1, 1, 2),
)
# CreateDeployment is never retried by botocore: a resend after a timeout, a dropped
# connection or a 5xx may start a second deployment (CodeDeploy has no client token).
# The trigger retries throttling itself and recovers from ambiguous failures.
CODEDEPLOY_CREATE_POLICIES = (
    CallPolicy(1, 5, 30),
    CallPolicy(1, 3, 10),
    CallPolicy(1, 2, 5),
    CallPolicy(1, 1, 2),
)
# Failure diagnostics (shared/adapters/diagnostics.py) read ECS only to explain a failure, inside
# the deadline margin: a few quick attempts, never long stalls.
ECS_POLICIES = (
    CallPolicy(3, 2, 5),
    CallPolicy(2, 1, 3),
    CallPolicy(1, 1, 2),
)
# The status table is an optimisation: give up sooner so that waiting degrades to
# GetDeployment polling instead of stalling on a throttled table.
DYNAMODB_POLICIES = (
    CallPolicy(4, 3, 5),
    CallPolicy(2, 2, 3),
    CallPolicy(1, 1, 2),
)
# The recorder's one UpdateItem per event must fail before its own timeout (module
# variable recorder_timeout, default 30 s): a function killed at its timeout has no
# chance to raise, and its retry comes from Lambda's asynchronous-invocation retries
# and the EventBridge target's retry policy anyway. The most patient policy fits the
# default timeout with RECORDER_TIMEOUT_MARGIN_SECONDS to spare (validated by the
# module: recorder_timeout >= RECORDER_MIN_TIMEOUT_SECONDS); the recorder still picks
# the rung that fits the time its invocation has left.
RECORDER_DYNAMODB_POLICIES = (
    CallPolicy(3, 1, 3),
    CallPolicy(2, 1, 2),
    CallPolicy(1, 1, 2),
)
RECORDER_TIMEOUT_MARGIN_SECONDS = 5.0
"""Kept after the slowest write: start-up of a cold container, logging, returning."""
RECORDER_MIN_TIMEOUT_SECONDS = math.ceil(
    RECORDER_DYNAMODB_POLICIES[0].worst_case_seconds() + RECORDER_TIMEOUT_MARGIN_SECONDS
)
"""The module's lower bound on recorder_timeout (examples/terraform/variables.tf)."""


class ClientLadder(Generic[ClientT]):
    """One lazily made client per policy; :meth:`within` picks the one that fits a budget."""

    def __init__(
        self,
        service: str,
        policies: tuple[CallPolicy, ...],
        factory: Callable[..., Any] = boto3.client,
    ) -> None:
        self._service = service
        self._policies = sorted(policies, key=CallPolicy.worst_case_seconds, reverse=True)
        self._factory = factory
        self._clients: dict[CallPolicy, ClientT] = {}
        self._lock = threading.Lock()

    def within(self, budget_seconds: float) -> ClientT:
        """The most patient client whose worst case fits; :class:`NoTimeLeft` if none does."""
        for policy in self._policies:
            if policy.worst_case_seconds() <= budget_seconds:
                return self._client(policy)
        raise NoTimeLeft(budget_seconds)

    def _client(self, policy: CallPolicy) -> ClientT:
        with self._lock:
            if policy not in self._clients:
                self._clients[policy] = cast(
                    ClientT, self._factory(self._service, config=policy.config())
                )
            return self._clients[policy]


class BoundedClient:
    """Stands in for a boto3 client: each call goes to the ladder's client for the time left.

    The adapters (CodeDeploy gateway, status store, idempotency layer) keep calling
    ``client.get_item(...)`` as usual; the budget is read at the moment of the call.
    """

    def __init__(self, ladder: ClientLadder[Any], budget: Callable[[], float]) -> None:
        self._ladder = ladder
        self._budget = budget

    @property
    def meta(self) -> Any:
        # Region, endpoint and config are the same on every rung: no budget needed.
        return self._ladder.within(math.inf).meta

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ladder.within(self._budget()), name)


@cache
def codedeploy_ladder() -> ClientLadder[CodeDeployClient]:
    return ClientLadder("codedeploy", CODEDEPLOY_POLICIES)


@cache
def codedeploy_create_ladder() -> ClientLadder[CodeDeployClient]:
    return ClientLadder("codedeploy", CODEDEPLOY_CREATE_POLICIES)


@cache
def dynamodb_ladder() -> ClientLadder[DynamoDBClient]:
    return ClientLadder("dynamodb", DYNAMODB_POLICIES)


@cache
def recorder_dynamodb_ladder() -> ClientLadder[DynamoDBClient]:
    return ClientLadder("dynamodb", RECORDER_DYNAMODB_POLICIES)


@cache
def ecs_ladder() -> ClientLadder[Any]:
    return ClientLadder("ecs", ECS_POLICIES)


def codedeploy_client() -> CodeDeployClient:
    """The most patient CodeDeploy client (no deadline: tests and the demo)."""
    return codedeploy_ladder().within(float("inf"))


def dynamodb_client() -> DynamoDBClient:
    """The most patient DynamoDB client (no deadline: tests, the bench)."""
    return dynamodb_ladder().within(float("inf"))


def bounded_codedeploy(budget: Callable[[], float]) -> CodeDeployClient:
    return cast("CodeDeployClient", BoundedClient(codedeploy_ladder(), budget))


def bounded_codedeploy_create(budget: Callable[[], float]) -> CodeDeployClient:
    return cast("CodeDeployClient", BoundedClient(codedeploy_create_ladder(), budget))


def bounded_dynamodb(budget: Callable[[], float]) -> DynamoDBClient:
    return cast("DynamoDBClient", BoundedClient(dynamodb_ladder(), budget))


def bounded_recorder_dynamodb(budget: Callable[[], float]) -> DynamoDBClient:
    """The recorder's DynamoDB client: each call's worst case fits ``budget()``."""
    return cast("DynamoDBClient", BoundedClient(recorder_dynamodb_ladder(), budget))


def bounded_ecs(budget: Callable[[], float]) -> Any:
    """ECS for failure diagnostics (untyped: only three read calls, no stubs dependency)."""
    return BoundedClient(ecs_ladder(), budget)


def reset_clients() -> None:
    """Forget cached clients (tests and the demo switch endpoints and credentials)."""
    codedeploy_ladder.cache_clear()
    codedeploy_create_ladder.cache_clear()
    dynamodb_ladder.cache_clear()
    recorder_dynamodb_ladder.cache_clear()
    ecs_ladder.cache_clear()


# --- the seam: where the trigger gets its clients -------------------------------------------

Budget = Callable[[], float]
"""Seconds a call may take, read when the call is made."""


class Clients(Protocol):
    """The one injection point for the trigger's AWS clients: production hands out bounded
    clients (:class:`LadderClients`), tests, the demo and the bench fixed ones
    (:class:`FixedClients`); the gateway, the store, the deduplicator and the diagnostics
    collector are built from it."""

    def codedeploy_within(self, budget: Budget) -> CodeDeployClient: ...

    def codedeploy_create_within(self, budget: Budget) -> CodeDeployClient:
        """CreateDeployment's client: never retried by botocore (see the policies above)."""
        ...

    def dynamodb_within(self, budget: Budget) -> DynamoDBClient: ...

    def ecs_within(self, budget: Budget) -> Any: ...


class LadderClients:
    """Production: every call picks the most patient policy that fits ``budget()``."""

    def codedeploy_within(self, budget: Budget) -> CodeDeployClient:
        return bounded_codedeploy(budget)

    def codedeploy_create_within(self, budget: Budget) -> CodeDeployClient:
        return bounded_codedeploy_create(budget)

    def dynamodb_within(self, budget: Budget) -> DynamoDBClient:
        return bounded_dynamodb(budget)

    def ecs_within(self, budget: Budget) -> Any:
        return bounded_ecs(budget)


class RecorderClients(Protocol):
    """The recorder's part of the seam: one DynamoDB client. :class:`FixedClients` is one."""

    def dynamodb_within(self, budget: Budget) -> DynamoDBClient: ...


class RecorderLadderClients:
    """Production for the recorder: its own policies (a write must end before its timeout)."""

    def dynamodb_within(self, budget: Budget) -> DynamoDBClient:
        return bounded_recorder_dynamodb(budget)


class FixedClients:
    """The same clients whatever the budget (tests, the demo, the bench): fault injection
    registers botocore event hooks on them. ``codedeploy_create`` defaults to a copy of
    ``codedeploy`` that botocore never retries; ``ecs`` is made from the environment when
    first needed."""

    def __init__(
        self,
        codedeploy: CodeDeployClient,
        dynamodb: DynamoDBClient,
        *,
        codedeploy_create: CodeDeployClient | None = None,
        ecs: Any = None,
    ) -> None:
        self.codedeploy = codedeploy
        self.dynamodb = dynamodb
        self.codedeploy_create = codedeploy_create or without_retries(codedeploy)
        self._ecs = ecs

    def codedeploy_within(self, budget: Budget) -> CodeDeployClient:
        return self.codedeploy

    def codedeploy_create_within(self, budget: Budget) -> CodeDeployClient:
        return self.codedeploy_create

    def dynamodb_within(self, budget: Budget) -> DynamoDBClient:
        return self.dynamodb

    def ecs_within(self, budget: Budget) -> Any:
        if self._ecs is None:
            self._ecs = boto3.client("ecs", region_name=self.codedeploy.meta.region_name)
        return self._ecs


def without_retries(client: CodeDeployClient) -> CodeDeployClient:
    """A copy of ``client`` that botocore never retries (for CreateDeployment)."""
    config = client.meta.config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
    copy: CodeDeployClient = boto3.client(
        "codedeploy",
        region_name=client.meta.region_name,
        endpoint_url=client.meta.endpoint_url,
        config=config,
    )
    return copy
