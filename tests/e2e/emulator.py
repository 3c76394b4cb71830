"""A local AWS for the end-to-end tests: moto's server in this process, plus what moto lacks.

Terraform (the aws provider, Go SDK) applies examples/terraform against it and our Lambda
functions really run. moto 5.2 covers the control plane; this module fills its gaps:

- Lambda ``Invoke`` (moto needs Docker): the function's zip is unpacked once per code hash and
  its handler runs in a subprocess under the matching pyenv/python3.x interpreter, with only the
  libraries the managed runtime provides (boto3, botocore, ...) besides the zip, and
  ``AWS_ENDPOINT_URL`` pointing back here. Errors carry ``X-Amz-Function-Error: Unhandled``.
- EventBridge rules with Lambda targets (moto raises NotImplementedError): the full event
  envelope is delivered asynchronously, with Lambda's async retries, checking the function's
  resource policy; undeliverable events go to the target's SQS dead-letter queue.
- CodeDeploy: deployments never leave ``Created`` in moto. A thread advances the simulated
  CodeDeploy of tests/support/simulator.py (one per backend), which moves each new deployment
  Created -> InProgress -> Succeeded/Failed/Stopped (``errorInformation`` and ``rollbackInfo``
  come from tests/support/moto_codedeploy.py); its "CodeDeploy Deployment State-change
  Notification" events are published on the default bus. Also: ``d-XXXXXXXXX`` ids, one active
  deployment per group (``DeploymentLimitExceededException``), and
  ``DeleteDeploymentGroup`` / ``DeleteApplication`` (``terraform destroy``).
  ``ContinueDeployment``, ``StopDeployment`` (with ``autoRollbackEnabled``: a rollback
  deployment), the group's blue/green waits (a Ready phase held for ContinueDeployment or
  ``deploymentReadyOption``'s timeout, a termination wait with
  ``instanceTerminationWaitTimeStarted``) and ``Create/Get/List/DeleteDeploymentConfig`` come
  from tests/support/moto_codedeploy.py and simulator.py. A minute of the group's clock lasts
  ``minute_seconds`` here (E2E_MINUTE_SECONDS, default 60; the e2e suite's default is 3,
  tests/e2e/harness.py MINUTE_SECONDS). moto 5.2 already
  serializes CodeDeploy timestamps as epoch numbers over HTTP, as the Go SDK needs (a test
  checks it).
- Lambda ``DeadLetterConfig``, which moto drops (Terraform would show drift on every plan).

Lambda and EC2/on-premises deployments without a marker run as CodeDeploy runs them
(tests/e2e/platforms.py: hook functions invoked, alarms read, instances and bundle scripts read
from moto).

Markers in a deployment's description steer the simulator (tests/support/simulator.py):
``simulate:fail`` (ends Failed with HEALTH_CONSTRAINTS), ``simulate:stop`` (ends Stopped),
``simulate:no-events`` (publishes no events, so only GetDeployment polling can see the outcome).
``simulate:ready`` (a Ready phase halfway), ``simulate:seconds=N`` (ends N s after creation).
Otherwise a deployment takes two steps of ``step_seconds`` (E2E_STEP_SECONDS). A failed
deployment is rolled back by a real rollback deployment (``creator: codeDeployRollback``, two
more steps).

Failure diagnostics: ``ListDeploymentTargets`` and ``BatchGetDeploymentTargets`` answer with
each deployment's targets and lifecycle events (tests/support/
moto_codedeploy.py, deployment_targets.py); a failed ECS deployment also leaves a stopped
replacement task and a service event in moto's ECS, which serves DescribeServices, ListTasks and
DescribeTasks itself.

The patches are process-wide (moto's server runs in this process) and are undone by ``stop()``.
Only one emulator may run at a time.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fnmatch
import io
import json
import logging
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import boto3
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.codedeploy.models import (
    CodeDeployBackend,
    DeploymentInfo,
    codedeploy_backends,
)
from moto.core.responses import ActionResult, EmptyResult
from moto.events.models import Rule, events_backends
from moto.events.utils import EventMessageType, EventTemplateParser
from moto.server import ThreadedMotoServer
from moto.sqs.models import sqs_backends
from moto.utilities.arns import parse_arn

from tests.e2e import platforms
from tests.support.release_build import release_build
from tests.support.simulator import SimulatedCodeDeploy, drop_marked

LOG = logging.getLogger("e2e.emulator")

RUNTIME_SCRIPT = Path(__file__).with_name("lambda_runtime.py")

# What the managed Python runtimes ship besides the standard library (module or package names).
RUNTIME_PROVIDED_MODULES = (
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "dateutil",
    "six",
    "jmespath",
)

TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})

_active: Emulator | None = None


class EmulatorError(RuntimeError):
    """The emulator cannot do what a test needs (e.g. no interpreter for the Lambda runtime)."""


class DeploymentLimitExceededException(CodeDeployException):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("DeploymentLimitExceededException", message)


def _emulator() -> Emulator:
    if _active is None:  # a patched moto path ran without a started emulator
        raise EmulatorError("the e2e emulator is not running")
    return _active


# --------------------------------------------------------------------------------------------
# Lambda: run the stored zip in a subprocess
# --------------------------------------------------------------------------------------------


@dataclass
class Invocation:
    request_id: str
    function_name: str
    error: bool
    payload: bytes
    log: str
    duration: float
    """From the emulator's Invoke to the answer: start-up and imports included."""
    handler_duration: float = 0.0
    """The handler's own time, without the init phase (Lambda's REPORT `Duration`, beside its
    `Init Duration`): what a handler did, whatever a cold start on a loaded machine cost."""


def find_python(version: str) -> str:
    """The interpreter for a Lambda runtime version ("3.13"), found as the release build finds
    it (.ci/package.py's find_python, which LAMBDA_PYTHON_3_13 overrides)."""
    build = release_build()
    found: Path | None = build.find_python(version)
    if found is None:
        missing = build.python_missing(version)
        raise EmulatorError(f"no interpreter for the Lambda runtime python{version}: {missing}")
    return str(found)


class LambdaRunner:
    """Runs Lambda handlers from their stored zips in subprocesses."""

    def __init__(self, workdir: Path, endpoint: str) -> None:
        self.workdir = workdir
        self.endpoint = endpoint
        self.log_path = workdir / "lambda.log"
        self._lock = threading.Lock()
        self._runtime_libs: Path | None = None
        self._pythons: dict[str, str] = {}
        self.invocations: list[Invocation] = []

    def runtime_libs(self) -> Path:
        """A directory standing in for the runtime's bundled boto3 & co., built once.

        Symlinks to the dev venv's copies: the child sees exactly these packages and not the
        rest of the venv (powertools, moto, ...), which must come from the zip as in Lambda.
        """
        with self._lock:
            if self._runtime_libs is not None:
                return self._runtime_libs
            target = self.workdir / "runtime"
            target.mkdir(parents=True, exist_ok=True)
            # The dev venv's copies; only their location matters.
            site = Path(boto3.__file__).resolve().parent.parent
            for name in RUNTIME_PROVIDED_MODULES:
                for src in (site / name, site / f"{name}.py"):
                    if src.exists():
                        (target / src.name).symlink_to(src, target_is_directory=src.is_dir())
                        break
                else:
                    raise EmulatorError(f"{name} is not installed in {site}")
            self._runtime_libs = target
            return target

    def python_for(self, runtime: str | None) -> str:
        match = re.fullmatch(r"python(\d+\.\d+)", runtime or "")
        if not match:
            raise EmulatorError(f"runtime {runtime!r} is not a Python runtime")
        version = match.group(1)
        with self._lock:
            if version not in self._pythons:
                self._pythons[version] = find_python(version)
            return self._pythons[version]

    def code_dir(self, fn: LambdaFunction) -> Path:
        """The function's zip unpacked (once per code hash, like /var/task)."""
        if not getattr(fn, "code_bytes", b""):
            raise EmulatorError(f"function {fn.function_name} has no zip code to run")
        target = self.workdir / "code" / fn.code_sha_256.replace("/", "_")
        with self._lock:
            if not target.exists():
                staging = Path(tempfile.mkdtemp(dir=self.workdir, prefix="unzip-"))
                with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                    archive.extractall(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(target)
        return target

    def child_env(self, fn: LambdaFunction, code: Path) -> dict[str, str]:
        # Start from nothing: the dev shell's AWS_*, VIRTUAL_ENV, CA bundle etc. must not leak.
        env = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
        env.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "PYTHONPATH": os.pathsep.join([str(code), str(self.runtime_libs())]),
                "PYTHONUNBUFFERED": "1",
                # Bytecode of the shared runtime libraries goes here, not into the dev venv.
                "PYTHONPYCACHEPREFIX": str(self.workdir / "pycache"),
                "LAMBDA_TASK_ROOT": str(code),
                "_HANDLER": str(fn.handler),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
                "AWS_REGION": fn.region,
                "AWS_DEFAULT_REGION": fn.region,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_SESSION_TOKEN": "test",
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        return env

    def invoke(self, fn: LambdaFunction, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        code = self.code_dir(fn)
        python = self.python_for(fn.run_time)
        calldir = Path(tempfile.mkdtemp(dir=self.workdir, prefix=f"invoke-{fn.function_name}-"))
        now = datetime.now(UTC)
        invocation = {
            "handler": fn.handler,
            "event": event,
            "request_id": request_id,
            "timeout_seconds": fn.timeout,
            "function_name": fn.function_name,
            "function_version": str(fn.version),
            "invoked_function_arn": fn.function_arn,
            "memory_limit_in_mb": fn.memory_size,
            "log_group_name": fn.logs_group_name,
            "log_stream_name": f"{now:%Y/%m/%d}/[{fn.version}]{request_id.replace('-', '')}",
        }
        (calldir / "invocation.json").write_text(json.dumps(invocation), encoding="utf-8")
        result_path = calldir / "result.json"
        log_path = calldir / "output.log"
        with log_path.open("wb") as log_file:
            log_file.write(f"START RequestId: {request_id} Version: {fn.version}\n".encode())
            log_file.flush()
            try:
                proc = subprocess.run(
                    [
                        python,
                        "-P",
                        "-s",
                        str(RUNTIME_SCRIPT),
                        str(calldir / "invocation.json"),
                        str(result_path),
                    ],
                    cwd=code,
                    env=self.child_env(fn, code),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    # The child enforces the function timeout itself; this only guards against
                    # a child that hangs while importing.
                    timeout=float(fn.timeout) + 120,
                    check=False,
                )
                exit_note = f"exit code {proc.returncode}"
            except subprocess.TimeoutExpired:
                exit_note = "killed: the runtime child did not finish"
        duration = time.monotonic() - started
        handler_seconds = None
        if result_path.exists():
            result = json.loads(result_path.read_text(encoding="utf-8"))
            error, payload = bool(result["error"]), str(result["payload"])
            handler_seconds = result.get("handler_seconds")
        else:
            error = True
            payload = json.dumps(
                {
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited ({exit_note})",
                    "errorType": "Runtime.ExitError",
                }
            )
        with log_path.open("a", encoding="utf-8") as log_file:
            log_file.write(f"END RequestId: {request_id}\n")
            log_file.write(
                f"REPORT RequestId: {request_id} Duration: {duration * 1000:.2f} ms "
                f"({exit_note}){' ERROR' if error else ''}\n"
            )
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        with self._lock:
            with self.log_path.open("a", encoding="utf-8") as all_logs:
                all_logs.write(f"==== {fn.function_name} {now.isoformat()} ====\n{log_text}")
            inv = Invocation(
                request_id,
                fn.function_name,
                error,
                payload.encode(),
                log_text,
                duration,
                handler_duration=duration if handler_seconds is None else float(handler_seconds),
            )
            self.invocations.append(inv)
        _save_cloudwatch_logs(fn, invocation["log_stream_name"], log_text)
        return inv


def _save_cloudwatch_logs(fn: LambdaFunction, stream: str, text: str) -> None:
    # Only into an existing group: creating /aws/lambda/<name> here could collide with the
    # aws_cloudwatch_log_group that Terraform creates for the function.
    backend = fn.logs_backend
    if fn.logs_group_name not in backend.groups:
        return
    try:
        backend.create_log_stream(fn.logs_group_name, stream)
        millis = int(time.time() * 1000)
        events = [{"timestamp": millis, "message": line} for line in text.splitlines() if line]
        if events:
            backend.put_log_events(fn.logs_group_name, stream, events)
    except Exception:  # logs are a debugging aid; never fail an invocation for them
        LOG.exception("could not copy the invocation log to CloudWatch Logs")


def _patched_invoke(
    self: LambdaFunction, body: str | bytes, request_headers: Any, response_headers: Any
) -> bytes:
    """Replaces moto's Docker-based LambdaFunction.invoke."""
    emulator = _emulator()
    event = json.loads(body) if body else {}
    inv_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
    if inv_type == "DryRun":
        return b""
    if inv_type == "Event":
        emulator.invoke_async(self, event, source="Invoke(Event)")
        return b""
    inv = emulator.runner.invoke(self, event)
    if inv.error:
        # "Unhandled" is what Lambda sends for a raised exception; Terraform's
        # aws_lambda_invocation fails on any X-Amz-Function-Error.
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-executed-version"] = str(self.version)
    if str(request_headers.get("x-amz-log-type", "")).lower() == "tail":
        tail = inv.log.encode()[-4096:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return inv.payload


_original_function_init = LambdaFunction.__init__
_original_get_configuration = LambdaFunction.get_configuration
_original_update_configuration = LambdaFunction.update_configuration


def _patched_function_init(self: LambdaFunction, *args: Any, **kwargs: Any) -> None:
    _original_function_init(self, *args, **kwargs)
    spec = kwargs.get("spec", args[1] if len(args) > 1 else {})
    # moto drops DeadLetterConfig: Terraform would then see drift on every plan.
    self.__dict__["dead_letter_config"] = spec.get("DeadLetterConfig") or None


def _dead_letter_config(fn: LambdaFunction) -> dict[str, Any]:
    return fn.__dict__.get("dead_letter_config") or {}


def _patched_get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
    config: dict[str, Any] = _original_get_configuration(self, *args, **kwargs)
    dead_letter = _dead_letter_config(self)
    if dead_letter.get("TargetArn"):
        config["DeadLetterConfig"] = dead_letter
    return config


def _patched_update_configuration(
    self: LambdaFunction, config_updates: dict[str, Any]
) -> dict[str, Any]:
    if "DeadLetterConfig" in config_updates:
        self.__dict__["dead_letter_config"] = config_updates["DeadLetterConfig"] or None
    result: dict[str, Any] = _original_update_configuration(self, config_updates)
    return result


# --------------------------------------------------------------------------------------------
# EventBridge: Lambda targets
# --------------------------------------------------------------------------------------------


def _event_time(value: Any) -> str:
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        return str(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _target_event(target: dict[str, Any], original: dict[str, Any]) -> Any:
    """What EventBridge hands the target: the full envelope unless the target reshapes it."""
    envelope = {
        "version": original.get("version", "0"),
        "id": original["id"],
        "detail-type": original["detail-type"],
        "source": original["source"],
        "account": original["account"],
        "time": _event_time(original.get("time")),
        "region": original["region"],
        "resources": original.get("resources", []),
        "detail": original.get("detail", {}),
    }
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(EventMessageType, copy.deepcopy(envelope)),
        )
    if "InputPath" in target:
        raise EmulatorError("EventBridge InputPath is not emulated")
    return envelope


def _policy_allows(fn: LambdaFunction, principal: str, source_arn: str) -> bool:
    """Whether the function's resource policy lets `principal` invoke it for `source_arn`."""
    for statement in fn.policy.statements:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
            continue
        granted = statement.get("Principal", {})
        services = granted.get("Service", []) if isinstance(granted, dict) else [granted]
        services = [services] if isinstance(services, str) else services
        if principal not in services and "*" not in services:
            continue
        condition = statement.get("Condition", {})
        wanted = [
            v
            for op in ("ArnLike", "ArnEquals", "StringLike", "StringEquals")
            for k, v in condition.get(op, {}).items()
            if k.lower() == "aws:sourcearn"
        ]
        if all(fnmatch.fnmatchcase(source_arn, w) for w in wanted):
            return True
    return False


_original_send_to_targets: Callable[..., None] = Rule.send_to_targets


def _patched_send_to_targets(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    lambda_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
    if not lambda_targets:
        _original_send_to_targets(self, original_event, transform_input)
        return
    others = copy.copy(self)
    others.targets = [t for t in self.targets if t not in lambda_targets]
    if others.targets:
        _original_send_to_targets(others, original_event, transform_input)
    if self.state == "DISABLED" or not self.event_pattern.matches_event(
        cast(EventMessageType, original_event)
    ):
        return
    emulator = _emulator()
    for target in lambda_targets:
        emulator.deliver_event(self, target, _target_event(target, original_event))


# --------------------------------------------------------------------------------------------
# CodeDeploy: realistic ids, one active deployment per group
# (errorInformation and rollbackInfo: tests.support.moto_codedeploy)
# The responses below are methods added to moto's CodeDeployResponse, so they parse the request
# with moto's own ``self._get_param``: moto's private API, not ours, and the only way it offers.
# --------------------------------------------------------------------------------------------

_original_deployment_info_init = DeploymentInfo.__init__
_original_create_deployment = CodeDeployBackend.create_deployment
_ID_ALPHABET = string.ascii_uppercase + string.digits


def _patched_deployment_info_init(self: DeploymentInfo, *args: Any, **kwargs: Any) -> None:
    _original_deployment_info_init(self, *args, **kwargs)
    # Real ids look like d-ABCDEFGHI; moto's are UUIDs.
    self.deployment_id = "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def _patched_create_deployment(self: CodeDeployBackend, *args: Any, **kwargs: Any) -> str:
    app = kwargs.get("application_name", args[0] if args else None)
    group = kwargs.get("deployment_group_name", args[1] if len(args) > 1 else None)
    for other in list(self.deployments.values()):
        if (
            other.application_name == app
            and other.deployment_group_name == group
            and other.status not in TERMINAL_STATUSES
        ):
            raise DeploymentLimitExceededException(
                f"The Deployment Group '{group}' already has an active Deployment "
                f"'{other.deployment_id}'"
            )
    deployment_id: str = _original_create_deployment(self, *args, **kwargs)
    return deployment_id


def _delete_deployment_group_response(self: Any) -> Any:
    """CodeDeployResponse.delete_deployment_group (missing in moto; terraform destroy needs it)."""
    app = self._get_param("applicationName")
    group = self._get_param("deploymentGroupName")
    backend: CodeDeployBackend = self.codedeploy_backend
    backend.get_application(app)  # ApplicationDoesNotExistException like AWS
    backend.deployment_groups.get(app, {}).pop(group, None)  # AWS: no error if absent
    return ActionResult({"hooksNotCleanedUp": []})


def _delete_application_response(self: Any) -> Any:
    """CodeDeployResponse.delete_application (missing in moto; terraform destroy needs it)."""
    app = self._get_param("applicationName")
    backend: CodeDeployBackend = self.codedeploy_backend
    backend.applications.pop(app, None)  # AWS: no error if absent
    backend.deployment_groups.pop(app, None)
    return EmptyResult()


# --------------------------------------------------------------------------------------------
# CodeDeploy simulator: tests.support.simulator, one per backend (account, region)
# --------------------------------------------------------------------------------------------


class CodeDeploySimulation:
    """Advances a SimulatedCodeDeploy for each CodeDeploy backend in a thread, in real time;
    their events go onto the default EventBridge bus of the deployment's account and region."""

    def __init__(self, step_seconds: float, minute_seconds: float = 60.0) -> None:
        self.step_seconds = step_seconds
        self.minute_seconds = minute_seconds
        self.events: list[dict[str, Any]] = []
        """The envelope of every event published, in order."""
        self._simulators: dict[tuple[str, str], SimulatedCodeDeploy] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="codedeploy-sim", daemon=True)
        self._passes = 0
        self._passed = threading.Condition()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def for_backend(self, account: str, region: str) -> SimulatedCodeDeploy:
        with self._lock:
            if (account, region) not in self._simulators:
                self._simulators[account, region] = SimulatedCodeDeploy(
                    clock=time.monotonic,
                    deliver=self._publish,
                    # Created -> InProgress after one step, the ending after another.
                    planner=platforms.planner(self.step_seconds),
                    drop_event=drop_marked,
                    region=region,
                    account=account,
                    # A failed deployment with auto-rollback gets a real rollback deployment.
                    create_rollbacks=True,
                    # Lambda and EC2/on-premises as CodeDeploy runs them (tests/e2e/platforms.py).
                    targets=platforms.targets,
                    minute_seconds=self.minute_seconds,
                )
            return self._simulators[account, region]

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for account, regions in list(codedeploy_backends.items()):
                for region in list(regions):
                    try:
                        self.for_backend(account, region).advance()
                    except Exception:  # keep simulating; a test will show what went wrong
                        LOG.exception("CodeDeploy simulator failed in %s/%s", account, region)
            with self._passed:
                self._passes += 1
                self._passed.notify_all()

    def wait_for_pass(self, deadline: float) -> None:
        """Wait until a pass over every backend that was under way (or starts) now has ended.

        One pass sets a deployment's status and publishes the event of it, so after it the
        event has been delivered (for a Lambda target: its asynchronous invocation started).
        """
        with self._passed:
            target = self._passes + 1
            while self._passes < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    raise EmulatorError("the CodeDeploy simulator made no progress")
                self._passed.wait(min(remaining, 1.0))

    def _publish(self, event: dict[str, Any]) -> None:
        LOG.info("deployment %s: %s", event["detail"]["deploymentId"], event["detail"]["state"])
        self.events.append(event)
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
        }
        events_backends[event["account"]][event["region"]].put_events([entry])


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class Emulator:
    """moto's server on loopback with the patches above; use as a context manager."""

    def __init__(
        self,
        step_seconds: float = 2.0,
        workdir: Path | None = None,
        async_retry_delay_seconds: float = 1.0,
        minute_seconds: float | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="cdt-emulator-"))
        self.step_seconds = step_seconds
        self.async_retry_delay_seconds = async_retry_delay_seconds
        self._server: ThreadedMotoServer | None = None
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._undo: list[Callable[[], None]] = []
        self.port = 0
        self.endpoint = ""
        self.region = "us-east-1"
        self.runner: LambdaRunner
        if minute_seconds is None:
            minute_seconds = float(os.environ.get("E2E_MINUTE_SECONDS", "60"))
        self.simulator = CodeDeploySimulation(step_seconds, minute_seconds)
        self.dead_letters: list[dict[str, Any]] = []

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> Emulator:
        global _active  # noqa: PLW0603 - the patched moto code needs to find the emulator
        if _active is not None:
            raise EmulatorError("an emulator is already running in this process")
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.runner = LambdaRunner(self.workdir, self.endpoint)
        _active = self
        self._patch()
        self.simulator.start()
        return self

    def stop(self) -> None:
        global _active  # noqa: PLW0603
        self.simulator.stop()
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=30)
        if self._server is not None:
            self._server.stop()
            self._server = None
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        _active = None
        if self._own_workdir and not os.environ.get("E2E_KEEP_EMULATOR_DIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set(self, owner: Any, name: str, value: Any) -> None:
        missing = object()
        old = (
            owner.__dict__.get(name, missing)
            if isinstance(owner, type)
            else getattr(owner, name, missing)
        )

        def undo() -> None:
            if old is missing:
                delattr(owner, name)
            else:
                setattr(owner, name, old)

        setattr(owner, name, value)
        self._undo.append(undo)

    def _patch(self) -> None:
        self._set(LambdaFunction, "invoke", _patched_invoke)
        self._set(LambdaFunction, "__init__", _patched_function_init)
        self._set(LambdaFunction, "get_configuration", _patched_get_configuration)
        self._set(LambdaFunction, "update_configuration", _patched_update_configuration)
        self._set(Rule, "send_to_targets", _patched_send_to_targets)
        self._set(DeploymentInfo, "__init__", _patched_deployment_info_init)
        self._set(CodeDeployBackend, "create_deployment", _patched_create_deployment)
        response = codedeploy_responses.CodeDeployResponse
        self._set(response, "delete_deployment_group", _delete_deployment_group_response)
        self._set(response, "delete_application", _delete_application_response)
        platforms.install(self._set, self.runner.invoke)

    # async delivery ---------------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def invoke_async(self, fn: LambdaFunction, event: Any, source: str) -> None:
        """Lambda's async invocation: up to two retries after a function error."""

        def run() -> None:
            for attempt in range(3):
                inv = self.runner.invoke(fn, event)
                if not inv.error:
                    return
                LOG.warning(
                    "async invocation of %s from %s failed (attempt %d): %s",
                    fn.function_name,
                    source,
                    attempt + 1,
                    inv.payload[:500],
                )
                if attempt < 2:
                    time.sleep(self.async_retry_delay_seconds)
            # Lambda's own dead-letter queue keeps the event after the retries.
            target = _dead_letter_config(fn).get("TargetArn")
            record = {"function": fn.function_name, "source": source, "event": event}
            self.dead_letters.append({**record, "reason": "function error after retries"})
            if target and parse_arn(target).service == "sqs":
                parsed = parse_arn(target)
                sqs_backends[parsed.account][parsed.region].send_message(
                    queue_name=parsed.resource_id, message_body=json.dumps(event)
                )

        # wait_idle(prefix=...) finds a scenario's invocations by this name.
        self._spawn(f"async-{fn.function_name}", run)

    def deliver_event(self, rule: Rule, target: dict[str, Any], event: Any) -> None:
        arn = target["Arn"]
        parsed = parse_arn(arn)
        try:
            fn = lambda_backends[parsed.account][parsed.region].get_function(arn)
        except Exception as exc:
            self._dead_letter(rule, target, event, f"function not found: {exc}")
            return
        if not _policy_allows(fn, "events.amazonaws.com", rule.arn):
            self._dead_letter(
                rule,
                target,
                event,
                f"the resource policy of {fn.function_name} does not allow "
                f"events.amazonaws.com from {rule.arn}",
            )
            return
        self.invoke_async(fn, event, source=f"rule {rule.name}")

    def _dead_letter(self, rule: Rule, target: dict[str, Any], event: Any, reason: str) -> None:
        LOG.warning("EventBridge could not deliver to %s: %s", target["Arn"], reason)
        record = {"rule": rule.name, "target": target["Arn"], "reason": reason, "event": event}
        self.dead_letters.append(record)
        dlq = target.get("DeadLetterConfig", {}).get("Arn")
        if dlq:
            parsed = parse_arn(dlq)
            sqs_backends[parsed.account][parsed.region].send_message(
                queue_name=parsed.resource_id, message_body=json.dumps(event)
            )

    # helpers for tests --------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        # A session per client: boto3's default session is not safe to create clients from
        # in several threads at once, and scenarios run in threads (tests/e2e/background.py).
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def deployments(self) -> list[DeploymentInfo]:
        found: list[DeploymentInfo] = []
        for regions in list(codedeploy_backends.values()):
            for backend in list(regions.values()):
                found.extend(list(backend.deployments.values()))
        return found

    def wait_idle(self, timeout: float = 60.0, *, prefix: str = "") -> None:
        """Wait until what is under way has settled: the deployments have ended (CodeDeploy's
        rollbacks too, which start in the same application), their events have been
        delivered, and the asynchronous invocations (the recorder's) have finished.

        With `prefix`, only the applications and functions whose names start with it: a
        scenario's own, whatever the scenarios beside it are doing (tests/e2e/background.py).
        Without, whatever is under way now, everywhere. Neither waits for a moment when the
        whole emulator is idle: with scenarios deploying side by side it may never come.
        """
        deadline = time.monotonic() + timeout

        def unfinished() -> set[str]:
            return {
                d.application_name
                for d in self.deployments()
                if d.status not in TERMINAL_STATUSES and d.application_name.startswith(prefix)
            }

        busy = unfinished()
        while busy & unfinished():
            if time.monotonic() >= deadline:
                raise EmulatorError(f"the deployments of {sorted(busy)} did not end")
            time.sleep(0.1)
        self.simulator.wait_for_pass(deadline)
        with self._threads_lock:
            running = [
                t for t in self._threads if t.is_alive() and t.name.startswith(f"async-{prefix}")
            ]
        for thread in running:
            thread.join(max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                raise EmulatorError(f"the asynchronous invocation {thread.name} did not end")

    def log_tail(self, lines: int = 80) -> str:
        path = self.runner.log_path
        if not path.exists():
            return "(no Lambda invocation yet)"
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def main() -> None:
    """Run the emulator in the foreground (for manual experiments): python -m tests.e2e.emulator"""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    step = float(os.environ.get("E2E_STEP_SECONDS", "2"))
    # SIGTERM too should leave through the context manager, which removes the workdir.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Emulator(step_seconds=step) as emulator:
        print(f"emulator listening on {emulator.endpoint} (workdir {emulator.workdir})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
