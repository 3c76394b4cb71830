"""The CodeDeploy adapter: the only module that speaks CodeDeploy's API.

It turns boto3's responses into :class:`DeploymentSnapshot` plain data and its
errors into :mod:`shared.errors` exceptions that keep CodeDeploy's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from botocore.exceptions import (
    BotoCoreError,
    ChecksumError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    FlexibleChecksumError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from shared.adapters.aws_errors import aws_failure
from shared.adapters.clients import without_retries
from shared.errors import ActiveDeploymentConflict, CodeDeployError
from shared.report.messages import (
    active_conflict_message,
    codedeploy_failure_message,
    create_not_sent_message,
)
from shared.revision import content_sha256
from shared.status import UNSUCCESSFUL_STATUSES, is_terminal
from shared.timestamps import to_iso

_Answer = TypeVar("_Answer")

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

CONSOLE_URL = "https://{host}/codesuite/codedeploy/deployments/{id}?region={region}"
# The console has its own host in each partition: console.aws.amazon.com;
# console.amazonaws.cn ("Getting Started with Amazon Web Services in China");
# console.amazonaws-us-gov.com (AWS GovCloud (US) User Guide, "Configuring Your
# Account"). The partition comes from the region.
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Real ids are d- plus nine upper-case letters or digits (the AWS CLI reference's
# get-deployment examples; the model sets no pattern); moto's are UUIDs. The input contract
# accepts these two shapes only (shared/contract/schema.py).
DEPLOYMENT_ID_SHAPE = r"d-[A-Z0-9]{9}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class DeploymentSnapshot(NamedTuple):
    """What one GetDeployment said about a deployment, JSON-safe."""

    deployment_id: str
    status: str
    application_name: str | None = None
    deployment_group_name: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    error_information: dict[str, Any] | None = None
    rollback_info: dict[str, Any] | None = None
    creator: str | None = None
    """How it was created (the model's DeploymentCreator): ``user`` for CreateDeployment
    calls, whoever made them; ``codeDeployRollback``, ``autoscaling``... otherwise."""
    compute_platform: str | None = None
    """``Server``, ``Lambda`` or ``ECS`` (the model's ComputePlatform enum, in DeploymentInfo)."""
    instance_termination_wait_started: bool = False
    """DeploymentInfo.instanceTerminationWaitTimeStarted: a blue/green deployment with
    TERMINATE has moved production traffic and waits before terminating the original."""
    deployment_config_name: str | None = None
    deployment_type: str | None = None
    """DeploymentInfo.deploymentStyle.deploymentType: ``IN_PLACE`` or ``BLUE_GREEN``."""
    blue_green_waits: BlueGreenWaits | None = None
    """DeploymentInfo.blueGreenDeploymentConfiguration: this deployment's Ready and
    termination waits (None: none given, as for an in-place deployment)."""

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def is_unsuccessful(self) -> bool:
        return self.status in UNSUCCESSFUL_STATUSES

    @classmethod
    def from_deployment_info(cls, info: Mapping[str, Any]) -> DeploymentSnapshot:
        return cls(
            deployment_id=info["deploymentId"],
            status=info["status"],
            application_name=info.get("applicationName"),
            deployment_group_name=info.get("deploymentGroupName"),
            created_at=to_iso(info.get("createTime")),
            completed_at=to_iso(info.get("completeTime")),
            error_information=_non_empty(info.get("errorInformation")),
            rollback_info=_non_empty(info.get("rollbackInfo")),
            creator=info.get("creator"),
            compute_platform=info.get("computePlatform"),
            instance_termination_wait_started=bool(
                info.get("instanceTerminationWaitTimeStarted", False)
            ),
            deployment_config_name=info.get("deploymentConfigName"),
            deployment_type=(info.get("deploymentStyle") or {}).get("deploymentType"),
            blue_green_waits=BlueGreenWaits.from_configuration(
                info.get("blueGreenDeploymentConfiguration")
            ),
        )


class BlueGreenWaits(NamedTuple):
    """The waits of a blue/green deployment, in minutes: the botocore model's
    BlueGreenDeploymentConfiguration, which DeploymentInfo (GetDeployment) carries "for this
    deployment" as CodeDeploy set it up at creation, whatever the group says since.

    Sources, the CodeDeploy API reference: DeploymentReadyOption (``waitTimeInMinutes``
    "applies only to the STOP_DEPLOYMENT option": CONTINUE_DEPLOYMENT reroutes at once),
    BlueInstanceTerminationOption (``terminationWaitTimeInMinutes`` with TERMINATE, at most
    2880; it "does not apply to Lambda deployments").
    """

    ready_action: str | None = None
    """``deploymentReadyOption.actionOnTimeout``: CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT."""
    ready_wait_minutes: int = 0
    termination_action: str | None = None
    """``terminateBlueInstancesOnDeploymentSuccess.action``: TERMINATE or KEEP_ALIVE."""
    termination_wait_minutes: int = 0

    @classmethod
    def from_configuration(cls, configuration: Any) -> BlueGreenWaits | None:
        """From a BlueGreenDeploymentConfiguration (None when absent or empty)."""
        if not isinstance(configuration, Mapping) or not configuration:
            return None
        ready = configuration.get("deploymentReadyOption") or {}
        terminate = configuration.get("terminateBlueInstancesOnDeploymentSuccess") or {}
        return cls(
            ready_action=ready.get("actionOnTimeout"),
            ready_wait_minutes=_minutes(ready.get("waitTimeInMinutes")),
            termination_action=terminate.get("action"),
            termination_wait_minutes=_minutes(terminate.get("terminationWaitTimeInMinutes")),
        )


class DeploymentConfigSettings(NamedTuple):
    """What GetDeploymentConfig says about traffic shifting (API reference,
    TrafficRoutingConfig: TimeBasedCanary shifts in two increments ``canaryInterval`` minutes
    apart; TimeBasedLinear in equal increments of ``linearPercentage`` every
    ``linearInterval`` minutes; AllAtOnce, or none on EC2/on-premises, at once)."""

    deployment_config_name: str
    compute_platform: str | None
    traffic_routing_type: str | None
    """``TimeBasedCanary``, ``TimeBasedLinear``, ``AllAtOnce``; None: no trafficRoutingConfig."""
    percentage: int
    """The canary's first increment, or each linear increment (0 when none)."""
    interval_minutes: int

    @classmethod
    def from_config_info(cls, info: Mapping[str, Any]) -> DeploymentConfigSettings:
        routing = info.get("trafficRoutingConfig") or {}
        kind = routing.get("type")
        percentage, interval = 0, 0
        if kind == "TimeBasedCanary":
            canary = routing.get("timeBasedCanary") or {}
            percentage = _minutes(canary.get("canaryPercentage"))
            interval = _minutes(canary.get("canaryInterval"))
        elif kind == "TimeBasedLinear":
            linear = routing.get("timeBasedLinear") or {}
            percentage = _minutes(linear.get("linearPercentage"))
            interval = _minutes(linear.get("linearInterval"))
        return cls(
            deployment_config_name=str(info.get("deploymentConfigName") or ""),
            compute_platform=info.get("computePlatform"),
            traffic_routing_type=kind,
            percentage=percentage,
            interval_minutes=interval,
        )


_PREDEFINED_TRAFFIC_ROUTING: dict[str, tuple[str, str | None, int, int]] = {
    # name: (compute platform, trafficRoutingConfig type, percentage, interval in minutes)
    # EC2/on-premises: minimum healthy hosts, no traffic routing.
    "CodeDeployDefault.AllAtOnce": ("Server", None, 0, 0),
    "CodeDeployDefault.HalfAtATime": ("Server", None, 0, 0),
    "CodeDeployDefault.OneAtATime": ("Server", None, 0, 0),
    "CodeDeployDefault.ECSAllAtOnce": ("ECS", "AllAtOnce", 0, 0),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": ("ECS", "TimeBasedCanary", 10, 5),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": ("ECS", "TimeBasedCanary", 10, 15),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": ("ECS", "TimeBasedLinear", 10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": ("ECS", "TimeBasedLinear", 10, 3),
    "CodeDeployDefault.LambdaAllAtOnce": ("Lambda", "AllAtOnce", 0, 0),
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": ("Lambda", "TimeBasedCanary", 10, 5),
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": ("Lambda", "TimeBasedCanary", 10, 10),
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": ("Lambda", "TimeBasedCanary", 10, 15),
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": ("Lambda", "TimeBasedCanary", 10, 30),
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": ("Lambda", "TimeBasedLinear", 10, 1),
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": ("Lambda", "TimeBasedLinear", 10, 2),
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes": ("Lambda", "TimeBasedLinear", 10, 3),
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": (
        "Lambda",
        "TimeBasedLinear",
        10,
        10,
    ),
}
"""The predefined configurations (CodeDeploy user guide, "Working with deployment
configurations": the predefined ones for an EC2/on-premises, an Amazon ECS and an AWS Lambda
compute platform; the EC2/on-premises ones set minimum healthy hosts and route no traffic).
AWS owns them and they never change, so the group's clock reads their traffic shifting from
here instead of calling GetDeploymentConfig: one call fewer per invocation for nearly every
group."""


def predefined_config(name: str) -> DeploymentConfigSettings | None:
    """A predefined configuration's traffic shifting, or None."""
    known = _PREDEFINED_TRAFFIC_ROUTING.get(name)
    if known is None:
        return None
    platform, kind, percentage, minutes = known
    return DeploymentConfigSettings(name, platform, kind, percentage, minutes)


def _minutes(value: Any) -> int:
    """A whole, non-negative number from the API (None or junk: 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class CreateNotAttempted(CodeDeployError):
    """CreateDeployment certainly did nothing (throttled, or never connected): safe to retry."""


class CreateOutcomeUnknown(CodeDeployError):
    """CreateDeployment may have started a deployment (timeout, dropped connection, 5xx)."""


# Throttling codes as botocore's standard retry mode knows them (retries/standard.py).
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
    }
)
# Raised before a byte of the request left: CodeDeploy cannot have acted.
_NOT_SENT = (EndpointConnectionError, ConnectTimeoutError)
# Raised once the request may have reached CodeDeploy (botocore httpsession.py maps urllib3's
# errors while sending and reading: ReadTimeoutError, ConnectionClosedError and the generic
# HTTPClientError; SSLError and ProxyConnectionError can come mid-exchange too), or with an
# answer that cannot be read (parsers.py ResponseParserError, a short or corrupt body). Every
# other BotoCoreError (ParamValidationError, NoCredentialsError, NoRegionError...) is raised
# while building or signing the request, before it is sent: a clear error, not ambiguous.
_MAYBE_SENT = (
    HTTPClientError,
    BotoConnectionError,
    IncompleteReadError,
    ChecksumError,
    FlexibleChecksumError,
    ResponseParserError,
)
BATCH_GET_LIMIT = 25  # BatchGetDeployments: "up to 25" ids (CodeDeploy API reference)


class CodeDeployGateway:
    """CreateDeployment, GetDeployment, ContinueDeployment, StopDeployment and look-ups (a
    deployment configuration too), with readable errors.

    ``create_client`` makes CreateDeployment calls: it must not retry by itself
    (``max_attempts=1``), because botocore would resend after a read timeout or a
    5xx and CodeDeploy has no idempotency token. Without one, a non-retrying copy
    of ``client`` is made.
    """

    def __init__(self, client: CodeDeployClient, *, create_client: CodeDeployClient | None = None):
        self._client = client
        self._create_client = create_client or without_retries(client)

    @property
    def region(self) -> str:
        return str(self._client.meta.region_name)

    @property
    def partition(self) -> str:
        # botocore resolves it from the region (its partitions data), like the ARNs.
        return str(self._client.meta.partition)

    def console_url(self, deployment_id: str) -> str:
        return console_url(deployment_id, region=self.region, partition=self.partition)

    def create(self, params: Mapping[str, Any]) -> str:
        """CreateDeployment once; says whether a failure may have left a deployment behind."""
        try:
            response = self._create_client.create_deployment(**params)
        except ClientError as error:
            code = _code(error)
            if code == "DeploymentLimitExceededException":
                raise _active_conflict(error, params) from error
            if code in _THROTTLING_CODES:
                raise CreateNotAttempted(f"{code}: {_message(error)}", code=code) from error
            if _status(error) >= 500:
                raise CreateOutcomeUnknown(f"{code}: {_message(error)}", code=code) from error
            raise _translate("CreateDeployment", error, params) from error
        except _NOT_SENT as error:
            raise CreateNotAttempted(str(error)) from error
        except _MAYBE_SENT as error:
            # Read timeouts and dropped connections: the request may have been processed.
            raise CreateOutcomeUnknown(str(error)) from error
        except BotoCoreError as error:
            raise _not_sent_error(error, params) from error
        return str(response["deploymentId"])

    def get(self, deployment_id: str) -> DeploymentSnapshot:
        response = self._call(
            "GetDeployment",
            {"deploymentId": deployment_id},
            lambda: self._client.get_deployment(deploymentId=deployment_id),
        )
        return DeploymentSnapshot.from_deployment_info(response["deploymentInfo"])

    def stop_deployment(self, deployment_id: str, *, auto_rollback: bool = True) -> str:
        """StopDeployment; returns what CodeDeploy said (its statusMessage, else its status:
        ``Pending`` or ``Succeeded``, StopStatus in the model)."""
        response = self._call(
            "StopDeployment",
            {"deploymentId": deployment_id},
            lambda: self._client.stop_deployment(
                deploymentId=deployment_id, autoRollbackEnabled=auto_rollback
            ),
        )
        return str(response.get("statusMessage") or response.get("status") or "stop requested")

    def continue_deployment(self, deployment_id: str, wait_type: str) -> None:
        """ContinueDeployment (``READY_WAIT`` or ``TERMINATION_WAIT``); it answers nothing."""
        self._call(
            "ContinueDeployment",
            {"deploymentId": deployment_id},
            lambda: self._client.continue_deployment(
                deploymentId=deployment_id,
                deploymentWaitType=wait_type,  # type: ignore[arg-type]
            ),
        )

    def get_deployment_config(self, name: str) -> DeploymentConfigSettings:
        """GetDeploymentConfig: how the configuration shifts traffic (a predefined one is
        known without asking: :func:`predefined_config`)."""
        known = predefined_config(name)
        if known is not None:
            return known
        response = self._call(
            "GetDeploymentConfig",
            {},
            lambda: self._client.get_deployment_config(deploymentConfigName=name),
        )
        info = cast(Mapping[str, Any], response.get("deploymentConfigInfo") or {})
        return DeploymentConfigSettings.from_config_info(info)

    @staticmethod
    def _call(operation: str, params: Mapping[str, Any], send: Callable[[], _Answer]) -> _Answer:
        """One CodeDeploy call, its failure in one view: CodeDeploy's words for a refusal,
        botocore's for no answer (:func:`_translate`, :func:`_call_failed`)."""
        try:
            return send()
        except ClientError as error:
            raise _translate(operation, error, params) from error
        except BotoCoreError as error:
            raise _call_failed(operation, error, params) from error

    def created_since(self, application: str, group: str, since: datetime) -> list[dict[str, Any]]:
        """The group's deployments created at or after ``since``, as ``deploymentInfo`` dicts."""
        return self._call(
            "ListDeployments",
            {"applicationName": application, "deploymentGroupName": group},
            lambda: self._deployment_infos_since(application, group, since),
        )

    def _deployment_infos_since(
        self, application: str, group: str, since: datetime
    ) -> list[dict[str, Any]]:
        ids: list[str] = []
        paginator = self._client.get_paginator("list_deployments")
        pages = paginator.paginate(
            applicationName=application,
            deploymentGroupName=group,
            createTimeRange={"start": since},
        )
        for page in pages:
            ids.extend(page.get("deployments", []))
        infos: list[dict[str, Any]] = []
        for offset in range(0, len(ids), BATCH_GET_LIMIT):
            batch = ids[offset : offset + BATCH_GET_LIMIT]
            response = self._client.batch_get_deployments(deploymentIds=batch)
            infos.extend(cast(list[dict[str, Any]], response.get("deploymentsInfo", [])))
        return infos


def same_revision(requested: Mapping[str, Any], reported: Mapping[str, Any] | None) -> bool:
    """Whether a deployment's reported revision is the one a request asked for.

    Only fields present on both sides are compared: CodeDeploy may omit the
    content of an AppSpecContent revision and report its sha256 instead.
    """
    if not reported or requested.get("revisionType") != reported.get("revisionType"):
        return False
    return _fingerprint(requested) == _fingerprint(reported) or _fields_agree(requested, reported)


def _fingerprint(revision: Mapping[str, Any]) -> str | None:
    for location in ("appSpecContent", "string"):
        spec = revision.get(location)
        if isinstance(spec, Mapping):
            content = spec.get("content")
            if isinstance(content, str):
                return content_sha256(content)
            digest = spec.get("sha256")
            return str(digest).lower() if digest else None
    return None


def _fields_agree(requested: Mapping[str, Any], reported: Mapping[str, Any]) -> bool:
    for location in ("s3Location", "gitHubLocation"):
        ours, theirs = requested.get(location), reported.get(location)
        if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
            shared = set(ours) & set(theirs)
            return bool(shared) and all(ours[key] == theirs[key] for key in shared)
    return False


def console_url(deployment_id: str, *, region: str, partition: str) -> str:
    """The deployment's page in the CodeDeploy console of the region's partition.

    Partitions without a public console host known here (the isolated ones) get
    the commercial host: the link is then only a hint, the id stays right.
    """
    host = CONSOLE_HOSTS.get(partition, CONSOLE_HOSTS["aws"])
    return CONSOLE_URL.format(host=host, id=deployment_id, region=region)


def _non_empty(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) and value else None


def _code(error: ClientError) -> str:
    code = aws_failure(error).code
    return "Unknown" if code is None else code


def _status(error: ClientError) -> int:
    return aws_failure(error).http_status


def _message(error: ClientError) -> str:
    return aws_failure(error).message.strip() or str(error)


def _translate(operation: str, error: ClientError, params: Mapping[str, Any]) -> CodeDeployError:
    code = _code(error)
    context = ", ".join(
        f"{key}={params[key]!r}"
        for key in ("applicationName", "deploymentGroupName", "deploymentId")
        if key in params
    )
    return CodeDeployError(
        codedeploy_failure_message(operation, code, _message(error), context), code=code
    )


def _call_failed(
    operation: str, error: BotoCoreError, params: Mapping[str, Any]
) -> CodeDeployError:
    """No answer from CodeDeploy (connection, timeout) or a request boto3 would not send:
    botocore's own words, with the request's ids. ``code`` names botocore's exception."""
    kind = type(error).__name__
    context = ", ".join(f"{key}={params[key]!r}" for key in ("deploymentId",) if key in params)
    return CodeDeployError(
        f"CodeDeploy {operation} failed ({kind}): {error} [{context}]", code=kind
    )


def _not_sent_error(error: BotoCoreError, params: Mapping[str, Any]) -> CodeDeployError:
    """A request boto3 refused to build or sign: CodeDeploy never saw it; resending is pointless."""
    kind = type(error).__name__
    group = f"{params.get('applicationName')}/{params.get('deploymentGroupName')}"
    return CodeDeployError(create_not_sent_message(group, kind, str(error)), code=kind)


def _active_conflict(error: ClientError, params: Mapping[str, Any]) -> ActiveDeploymentConflict:
    """DeploymentLimitExceededException: the group is busy, or the account is full.

    CodeDeploy raises it for both of its deployment quotas (CodeDeploy quotas
    page): one concurrent deployment per deployment group, and "Concurrent
    deployments per account" (adjustable in Service Quotas). Only the first
    names a deployment, in prose whose wording has changed before: best effort.
    """
    # Compiled here (and cached by ``re``): only a busy group needs it, not every cold start.
    found = re.search(rf"\b({DEPLOYMENT_ID_SHAPE})\b", _message(error))
    active = found.group(1) if found else None
    group = f"{params.get('applicationName')}/{params.get('deploymentGroupName')}"
    return ActiveDeploymentConflict(
        active_conflict_message(group, active, _message(error)),
        active_deployment_id=active,
    )
