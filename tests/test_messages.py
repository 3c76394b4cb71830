"""What an error carries: never a credential a hook printed, never more than 4 KB as the
Lambda runtime prints it, whatever the text (emoji, CJK, control characters, huge inputs).

Faults and texts are injected at the client boundary: botocore ``after-call`` hooks rewrite
what CodeDeploy answered, ``before-call`` hooks answer in its place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import trigger
from shared.adapters import clients as aws
from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.diagnostics import (
    Diagnostics,
    EcsService,
    HookDiagnostics,
    LambdaShift,
    LifecycleEvent,
    RollbackReport,
    StoppedTask,
    Target,
)
from shared.config import Settings
from shared.errors import CodeDeployError, ConfigurationError, DeploymentFailed, InvalidInput
from shared.report.failure import failure_message
from shared.text import MASK, MAX_MESSAGE_BYTES, cut, mask_secrets, printed_size
from tests.support.harness import Harness, appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import FAIL_MARKER, fail_after, plan_from_description

URL = "https://console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEFGHI?region=us-east-1"
SECRET_LOG = "\n".join(
    [
        "START smoke test",
        "connecting to orders-db with password=hunter2",
        "using access key AKIAIOSFODNN7EXAMPLE",
        'config loaded: {"api_token": "tok-0123456789", "region": "us-east-1"}',
        "GET /api/orders Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAw7Zdfmece8iaB0kiTY8pCtiBtzbptJmP28nSWwtdjRu0f2GF",
        "-----END RSA PRIVATE KEY-----",
        "smoke test FAILED: 1 of 2 checks failed",
    ]
)
SECRETS = (
    "hunter2",
    "AKIAIOSFODNN7EXAMPLE",
    "tok-0123456789",
    "eyJhbGciOiJIUzI1NiJ9",
    "MIIEowIBAAKCAQEA",
)


def on_response(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    """Register ``handler`` on a botocore event for every client made from now on (the
    trigger makes its clients lazily from boto3's default session)."""
    session = boto3.session.Session()
    session.events.register(event, handler)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    aws.reset_clients()


def hook_log_tail(log: str) -> Callable[..., None]:
    """An ``after-call`` hook: every failed lifecycle event's ``logTail`` becomes ``log``."""

    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        for target in parsed.get("deploymentTargets", []):
            for body in target.values():
                if not isinstance(body, dict):
                    continue
                for event in body.get("lifecycleEvents", []):
                    if event.get("status") == "Failed" and event.get("diagnostics"):
                        event["diagnostics"]["logTail"] = log

    return rewrite


def printed_forms(message: str) -> dict[str, int]:
    """The message's bytes as the Lambda Python runtime prints it: the error JSON on
    python3.12+ (non-ASCII kept), on older runtimes (escaped), and the log's text line."""
    return {
        "json, non-ASCII kept": len(json.dumps(message, ensure_ascii=False).encode()),
        "json, non-ASCII escaped": len(json.dumps(message).encode()),
        "text log line": len(message.encode()),
    }


@pytest.fixture
def secret_printing_hook(monkeypatch: pytest.MonkeyPatch, moto: None) -> None:
    # After moto starts: starting it drops boto3's default session.
    on_response(
        monkeypatch,
        "after-call.codedeploy.BatchGetDeploymentTargets",
        hook_log_tail(SECRET_LOG),
    )


def _harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness(planner=lambda d: plan_from_description(d, 30))


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("secret_printing_hook", "status_table")
def test_credentials_a_hook_printed_are_masked_in_the_error_and_never_logged(
    make_harness: Callable[..., Harness], log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(description=FAIL_MARKER))

    message = str(raised.value)
    logged = json.dumps(log_lines())
    for secret in SECRETS:
        assert secret not in message
        assert secret not in logged
    assert f"password={MASK}" in message
    assert f'"api_token": "{MASK}"' in message
    assert f"Authorization: Bearer {MASK}" in message
    # What is not a credential stays: the tail still explains the failure.
    assert "START smoke test" in message and "smoke test FAILED: 1 of 2 checks failed" in message


@pytest.mark.usefixtures("secret_printing_hook", "status_table")
def test_include_log_tails_false_leaves_the_tail_out(
    make_harness: Callable[..., Harness],
) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(description=FAIL_MARKER, includeLogTails=False))

    message = str(raised.value)
    assert "log tail left out (includeLogTails is false)" in message
    assert "smoke test" not in message and MASK not in message
    # The hook and CodeDeploy's words are still there.
    hook = "AfterAllowTestTraffic Failed, hook function CodeDeployHook_AfterAllowTestTraffic"
    assert hook in message


@pytest.mark.usefixtures("secret_printing_hook", "status_table")
def test_the_operators_include_log_tails_false_wins_over_the_input(
    make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCLUDE_LOG_TAILS", "false")
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(description=FAIL_MARKER, includeLogTails=True))

    message = str(raised.value)
    assert "log tail left out (INCLUDE_LOG_TAILS is false)" in message
    assert "smoke test" not in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, True), ("", True), ("true", True), ("TRUE", True), ("false", False), ("False", False)],
)
def test_include_log_tails_setting(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"INCLUDE_LOG_TAILS": raw}
    assert Settings.from_env(env).include_log_tails is expected


def test_include_log_tails_setting_must_be_true_or_false() -> None:
    with pytest.raises(
        ConfigurationError, match="INCLUDE_LOG_TAILS must be true or false, got 'no'"
    ):
        Settings.from_env({"INCLUDE_LOG_TAILS": "no"})


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("connect with password=hunter2 now", f"connect with password={MASK} now"),
        ("PASSWORD: hunter2", f"PASSWORD: {MASK}"),
        ('{"password": "hunter 2", "user": "bob"}', f'{{"password": "{MASK}", "user": "bob"}}'),
        ('{\\"db_password\\": \\"hunter2\\"}', f'{{\\"db_password\\": \\"{MASK}\\"}}'),
        ("export DB_PASSWORD='two words'", f"export DB_PASSWORD='{MASK}'"),
        ("GITHUB_TOKEN=ghp_abcdef1234567890", f"GITHUB_TOKEN={MASK}"),
        ("GET /x?token=abc123&page=2", f"GET /x?token={MASK}&page=2"),
        ("client_secret: abc; x-api-key: k1", f"client_secret: {MASK}; x-api-key: {MASK}"),
        ("key AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE", f"key {MASK} and {MASK}"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            f"aws_secret_access_key = {MASK}",
        ),
        ('"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"', f'"SecretAccessKey": "{MASK}"'),
        ("Authorization: Bearer abc.def.ghi", f"Authorization: Bearer {MASK}"),
        ("authorization=Basic dXNlcjpwYXNz", f"authorization=Basic {MASK}"),
        ("sent bearer abc.def-ghi", f"sent bearer {MASK}"),
        ("postgres://app:hunter2@db:5432/orders", f"postgres://app:{MASK}@db:5432/orders"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\nok",
            f"{MASK}\nok",
        ),
        ("before\n-----BEGIN PRIVATE KEY-----\nMIIE (the log ends here)", f"before\n{MASK}"),
        ("MIIE\nb3Bl\n-----END EC PRIVATE KEY-----\nafter", f"{MASK}\nafter"),
        # Not credentials: left alone.
        (
            "not authorized to perform: secretsmanager:GetSecretValue on resource",
            "not authorized to perform: secretsmanager:GetSecretValue on resource",
        ),
        ("the tokenizer: ready", "the tokenizer: ready"),
        ("GET /health -> 200 (12 ms)", "GET /health -> 200 (12 ms)"),
    ],
)
def test_credential_shapes_are_masked(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
    assert mask_secrets(masked) == masked


def test_a_secret_cut_in_half_by_the_1_kb_tail_is_still_masked() -> None:
    """Masking runs on the whole tail before it is cut to its last bytes: a cut never leaves a
    value whose ``password=`` it removed."""
    log = "x" * 2000 + " password=" + "p" * 600 + "\n" + "y" * 300
    event = LifecycleEvent("Install", "Failed", None, None, None, HookDiagnostics(log_tail=log))
    found = Diagnostics((Target("i-1", "InstanceTarget", "Failed", (event,)),), 1)

    message = failure_message(_snapshot(), URL, found)

    assert "ppp" not in message and MASK in message


def test_names_are_not_mistaken_for_credentials() -> None:
    """Masking reads free text (messages, tails, reasons), not names: a cluster called
    secret-store keeps its service's name in the error."""
    event = LifecycleEvent(
        "AfterAllowTestTraffic",
        "Failed",
        None,
        None,
        None,
        HookDiagnostics("ScriptFailed", "hook", "token=abc123 refused", None),
    )
    found = Diagnostics((Target("secret-store:api", "ECSTarget", "Failed", (event,)),), 1)

    message = failure_message(_snapshot(), URL, found)

    assert "ECS service secret-store:api: AfterAllowTestTraffic Failed" in message
    assert f"ScriptFailed: token={MASK} refused" in message


# --- sizes ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("status_table")
def test_a_failure_in_emoji_and_cjk_stays_within_4_kb_as_printed(
    make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CodeDeploy's message and rollback message in emoji and CJK (2 to 3 times their UTF-8
    size once escaped): the error fits in every form the runtime prints it."""

    def foreign_words(parsed: dict[str, Any], **_: Any) -> None:
        info = parsed.get("deploymentInfo", {})
        if info.get("status") == "Failed":
            info["errorInformation"] = {"code": "HEALTH_CONSTRAINTS", "message": "😀🚀" * 4000}
            info["rollbackInfo"] = {"rollbackMessage": "部署失败已回滚" * 2000}

    on_response(monkeypatch, "after-call.codedeploy.GetDeployment", foreign_words)
    harness = make_harness(planner=lambda _d: fail_after(30))

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(waitForRollback=False))

    message = str(raised.value)
    assert max(printed_forms(message).values()) <= MAX_MESSAGE_BYTES
    assert message.startswith("CodeDeploy deployment ")
    assert "HEALTH_CONSTRAINTS: 😀🚀" in message and "Rollback: 部署失败" in message
    assert message.endswith(f"Console: {harness.gateway.console_url(_failed_id(message))}")


def _failed_id(message: str) -> str:
    return message.split(" ", 3)[2]


_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"), st.sampled_from(["😀", "部", '"', "\\", "\n", "\x00"])
    ),
    max_size=3000,
)
# Long runs of one short text: what a size bound must survive (a message in emoji, a log of
# escaped quotes), and what a short random text seldom reaches.
_LONG_TEXT = st.builds(
    lambda part, times: part * times, _ANY_TEXT.filter(lambda t: len(t) < 20), st.integers(0, 600)
)


@settings(deadline=None)  # correctness only: timing belongs in bench/
@given(
    code=_ANY_TEXT | _LONG_TEXT,
    said=_ANY_TEXT | _LONG_TEXT,
    hook=_ANY_TEXT | _LONG_TEXT,
    log=_ANY_TEXT | _LONG_TEXT,
    note=_ANY_TEXT | _LONG_TEXT,
    names=st.lists(_ANY_TEXT | _LONG_TEXT, min_size=4, max_size=4),
)
def test_any_failure_text_fits_in_4_kb_as_printed(
    code: str, said: str, hook: str, log: str, note: str, names: list[str]
) -> None:
    snapshot = DeploymentSnapshot(
        deployment_id=names[0] or "d-ABCDEFGHI",
        status="Failed",
        application_name=names[1],
        deployment_group_name=names[2],
        error_information={"code": code, "message": said * 5},
        rollback_info={"rollbackDeploymentId": names[3] or "d-ROLLBACK1"},
    )
    event = LifecycleEvent(
        names[1], "Failed", None, None, None, HookDiagnostics(code, hook, said, log)
    )
    task = StoppedTask(names[2], said, names[3], 1, note)
    found = Diagnostics(
        failing_targets=tuple(Target(name, "ECSTarget", "Failed", (event,)) for name in names[:3]),
        failing_target_count=40,
        ecs_services=(EcsService(names[0], names[1], (task,) * 3, (note,) * 3),),
        alarms=tuple(names),
        unavailable=note,
    )
    rollback = RollbackReport(names[3] or "d-ROLLBACK1", "InProgress", note=note)

    message = failure_message(snapshot, URL, found, rollback)

    assert max(printed_forms(message).values()) <= MAX_MESSAGE_BYTES
    assert message.startswith("CodeDeploy deployment ")
    assert message.endswith(f"Console: {URL}")


@given(text=_ANY_TEXT | _LONG_TEXT, limit=st.integers(min_value=2, max_value=5000))
def test_cut_fits_any_text_in_its_bound(text: str, limit: int) -> None:
    for keep in ("start", "end"):
        kept = cut(text, limit, keep=keep)
        assert printed_size(kept) <= max(limit, printed_size("..."))
        if printed_size(text) <= limit:
            assert kept == text
        elif keep == "start":
            assert text.startswith(kept.removesuffix("..."))
        else:
            assert text.endswith(kept.removeprefix("..."))


@given(text=_ANY_TEXT)
def test_printed_size_is_the_larger_runtime_encoding(text: str) -> None:
    assert printed_size(text) == max(
        len(json.dumps(text)), len(json.dumps(text, ensure_ascii=False).encode())
    )


@pytest.fixture
def no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []

    def refuse(model: Any, **_: Any) -> None:
        calls.append(model.name)
        raise AssertionError(f"unexpected AWS call {model.name}")

    on_response(monkeypatch, "before-call.*.*", refuse)
    trigger.service.cache_clear()
    yield calls


def test_a_huge_payload_of_unknown_keys_gets_a_short_answer(no_aws_calls: list[str]) -> None:
    payload = appspec_request(**{f"unknownKey{n:06d}" + "x" * 60: n for n in range(60_000)})
    assert len(json.dumps(payload)) > 4_800_000

    with pytest.raises(InvalidInput) as raised:
        trigger.lambda_handler(payload, FakeLambdaContext())

    message = str(raised.value)
    assert max(printed_forms(message).values()) <= MAX_MESSAGE_BYTES
    assert message.startswith("unknown input key(s): unknownKey000000")
    assert ", and 59990 more; allowed keys: " in message
    assert no_aws_calls == []


def test_unknown_keys_deep_in_the_payload_are_counted_not_listed(
    no_aws_calls: list[str],
) -> None:
    revision = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": "{}", **{f"k{n}" * 50: n for n in range(5_000)}},
    }

    with pytest.raises(InvalidInput) as raised:
        trigger.lambda_handler(appspec_request(revision=revision), FakeLambdaContext())

    message = str(raised.value)
    assert max(printed_forms(message).values()) <= MAX_MESSAGE_BYTES
    assert "unknown key(s) in revision.appSpecContent: " in message
    assert ", and 4990 more; allowed keys: content, sha256" in message
    assert no_aws_calls == []


@pytest.mark.usefixtures("codedeploy")
def test_codedeploys_huge_words_are_cut_to_4_kb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever CodeDeploy answers, the error that carries its words stays within the bound."""

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "InvalidRevisionException", "Message": "revision 部署 " * 20_000}
        response = AWSResponse("https://codedeploy", 400, {}, None)
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    on_response(monkeypatch, "before-call.codedeploy.CreateDeployment", refuse)

    with pytest.raises(CodeDeployError) as raised:
        trigger.lambda_handler(appspec_request(), FakeLambdaContext())

    message = str(raised.value)
    assert max(printed_forms(message).values()) <= MAX_MESSAGE_BYTES
    assert "InvalidRevisionException" in message
    assert message.endswith("[cut to fit 4 KB]")


def _snapshot() -> DeploymentSnapshot:
    return DeploymentSnapshot(
        deployment_id="d-ABCDEFGHI",
        status="Failed",
        application_name="app",
        deployment_group_name="group",
        error_information={"code": "HEALTH_CONSTRAINTS", "message": "too many failed"},
    )


def test_a_lambda_rollback_names_the_version_that_serves_again() -> None:
    """CodeDeploy's lambdaFunctionInfo: currentVersion is what the alias served before the
    deployment, which the rollback puts back."""
    target = Target(
        "orders:live",
        "LambdaTarget",
        "Failed",
        (),
        lambda_shift=LambdaShift("orders", "live", current_version="7", target_version="8"),
    )
    snapshot = DeploymentSnapshot(
        "d-ABCDEFGHI", "Failed", rollback_info={"rollbackDeploymentId": "d-ROLLBACK1"}
    )
    diagnostics = Diagnostics(failing_targets=(target,), failing_target_count=1)

    rollback = RollbackReport("d-ROLLBACK1", "Succeeded")
    message = failure_message(snapshot, URL, diagnostics, rollback)
    without_target = failure_message(snapshot, URL, None, rollback)

    assert (
        "Rolled back by deployment d-ROLLBACK1: Succeeded, Lambda function orders alias live "
        "version 7 is serving again" in message
    )
    assert "Succeeded, the previous version is serving again" in without_target
