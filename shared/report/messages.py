"""Every other message a caller reads: timeouts, stops, a busy group, an ambiguous
CreateDeployment, the history query's table errors. Adapters quote AWS; what to do about it
is said here (and in shared/trigger/)."""

from __future__ import annotations

import json

from shared.adapters.status_table import BY_GROUP_INDEX
from shared.deadline import LAMBDA_MAX_TIMEOUT_SECONDS
from shared.status import DeploymentStatus

# CodeDeploy user guide, "Redeploy and roll back a deployment" / blue/green "Reroute traffic":
# a blue/green deployment in Ready waits for ContinueDeployment or the group's wait time.
READY_EXPLANATION = (
    "the replacement is ready and waits for traffic to be rerouted: run ContinueDeployment, "
    "or let the deployment group's ready wait time expire"
)


def status_log_fields(deployment_id: str, status: str) -> dict[str, str]:
    """Extra fields of the waiter's "deployment status changed" line."""
    if status != DeploymentStatus.READY:
        return {}
    # A person (or the group's ready timeout) must act: say so once, with the command.
    return {"meaning": READY_EXPLANATION, "continueCommand": continue_command(deployment_id)}


# What to do next, in Terraform's terms. The trigger sees the invocation's lifecycle scope in
# its input: the terraform key is there under lifecycle_scope = "CRUD" only, with "action"
# create or update (terraform-provider-aws, aws_lambda_invocation). A failed create is not
# saved, so the next apply invokes again; a failed CRUD update is saved, so the next apply
# proposes nothing and only a replacement invokes again.
RETRY_AFTER_FAILED_CREATE = (
    "Next: fix the cause and run terraform apply again (a failed aws_lambda_invocation is not "
    "saved, so the next apply deploys again; with the deployment chain module, -replace its "
    "deploy link, as re-applying the links attaches to this failed deployment)"
)
RETRY_AFTER_FAILED_UPDATE = (
    "Next: fix the cause, then apply with -replace of this aws_lambda_invocation (terraform "
    'apply -replace=ADDRESS): lifecycle_scope "CRUD" saved the failed update, so a plain '
    "apply proposes nothing"
)


def failure_next_step(terraform_action: str | None) -> str:
    """What to do after a failed deployment, for the invocation's lifecycle scope."""
    return RETRY_AFTER_FAILED_UPDATE if terraform_action == "update" else RETRY_AFTER_FAILED_CREATE


def _wait_again_step(
    deployment_id: str,
    terraform_action: str | None,
    function_timeout: int | None,
    *,
    retry_attaches: bool = True,
) -> str:
    """A deployment outlived the wait: how to wait for it again."""
    resume = json.dumps({"deploymentId": deployment_id})
    if not retry_attaches:
        # Without the status table there is no idempotency record: the same request sent
        # again would meet this deployment as the group's active one, not attach to it.
        step = (
            f"To wait for it, invoke the trigger with {resume}; applying the same request "
            "again does not attach to it without the status table (STATUS_TABLE_NAME): it "
            "meets it as the group's active deployment. For deployments longer than 15 "
            "minutes use the deployment chain module"
        )
        return step + _longer_timeout_hint(function_timeout) + ". "
    if terraform_action == "update":
        again = (
            "apply with -replace of this aws_lambda_invocation (terraform apply "
            '-replace=ADDRESS; lifecycle_scope "CRUD" saved this update): the identical request '
            "attaches to the running deployment and waits on"
        )
    else:
        again = (
            "run terraform apply again: the identical request attaches to the running "
            "deployment and waits on"
        )
    step = (
        f"To wait for it, {again} (outside Terraform: invoke the trigger with {resume}); for "
        "deployments longer than 15 minutes use the deployment chain module"
    )
    return step + _longer_timeout_hint(function_timeout) + ". "


def _longer_timeout_hint(function_timeout: int | None) -> str:
    """Raising the function's timeout, suggested only below Lambda's maximum."""
    if function_timeout is not None and function_timeout < LAMBDA_MAX_TIMEOUT_SECONDS:
        return (
            f", or raise the function's timeout ({function_timeout}s now; Lambda allows "
            f"{LAMBDA_MAX_TIMEOUT_SECONDS}s)"
        )
    if function_timeout is None:
        return ", or raise the function's timeout"
    return ""


HISTORY_OUT_OF_TIME = "the status table did not answer before the function's deadline; try again"


CHAIN_MAX_WAIT_MINUTES = 60
"""The deployment chain module's max_wait_minutes limit (examples/terraform/modules/deployment:
4 waiting links of at most 15 minutes)."""


def group_clock_note(
    *,
    longest_minutes: int,
    ready_wait_minutes: int,
    traffic_routing_minutes: int,
    termination_wait_minutes: int,
    traffic_shifted_minutes: int,
    wait_until: str,
    available_seconds: float,
) -> str:
    """The group's clock is longer than this invocation can wait (onDeadline "fail"): said at
    the start, and again in the timeout's message; names what fits."""
    note = (
        f"The deployment group's own waits can take {longest_minutes} minutes before "
        f"{wait_until} (ready wait {ready_wait_minutes}, traffic routing "
        f"{traffic_routing_minutes}, termination wait {termination_wait_minutes}), more than "
        f'this invocation can wait ({available_seconds / 60:.1f} minutes, onDeadline "fail"). '
    )
    fits: list[str] = []
    if longest_minutes <= CHAIN_MAX_WAIT_MINUTES:
        fits.append(
            f"the deployment chain module with max_wait_minutes of at least {longest_minutes}"
        )
    shifted_first = wait_until == "Succeeded" and termination_wait_minutes > 0
    if shifted_first and traffic_shifted_minutes * 60 <= available_seconds:
        fits.append(
            f'waitUntil "TrafficShifted" ({traffic_shifted_minutes} minutes of the group\'s '
            "waits: it returns once traffic is on the replacement, and the termination wait "
            "runs on in CodeDeploy)"
        )
    elif shifted_first and traffic_shifted_minutes <= CHAIN_MAX_WAIT_MINUTES:
        fits.append(
            f'waitUntil "TrafficShifted" in the deployment chain module with max_wait_minutes '
            f"of at least {traffic_shifted_minutes}"
        )
    if not fits:
        fits.append(
            "create the deployment with wait false and attach to it later "
            '({"deploymentId": ...}), or shorten the group\'s waits'
        )
    return note + "What fits: " + "; or ".join(fits) + ". "


def traffic_shifted_next_step(deployment_id: str) -> str:
    """``nextStep`` of a result at TrafficShifted: how to end the termination wait early
    (ContinueDeployment with TERMINATION_WAIT, AWS CLI reference continue-deployment)."""
    invocation = json.dumps({"deploymentId": deployment_id, "continue": "TERMINATION_WAIT"})
    return (
        "Traffic is on the replacement; the original environment is kept until the deployment "
        "group's termination wait ends, and the deployment stays InProgress until then. To end "
        f"the wait now, invoke the trigger with {invocation} or run: aws deploy "
        f"continue-deployment --deployment-id {deployment_id} --deployment-wait-type "
        "TERMINATION_WAIT"
    )


def continue_command(deployment_id: str) -> str:
    """The exact command that moves a Ready blue/green deployment on (AWS CLI reference)."""
    return (
        f"aws deploy continue-deployment --deployment-id {deployment_id} "
        "--deployment-wait-type READY_WAIT"
    )


def timeout_message(
    deployment_id: str,
    last_status: str,
    remaining_seconds: float,
    console_url: str,
    *,
    stop_said: str | None,
    progress: str | None = None,
    terraform_action: str | None = None,
    function_timeout: int | None = None,
    retry_attaches: bool = True,
    group_clock_note: str | None = None,
) -> str:
    """Why the trigger stopped waiting, and what the person can do next.

    ``stop_said`` is what happened to StopDeployment with ``stopOnTimeout``
    (None when the option is off). ``function_timeout`` (seconds, None when unknown): raising
    it is suggested only below Lambda's maximum. ``group_clock_note``: the start's warning
    that the group's own waits are longer than the invocation (:func:`group_clock_note`).
    """
    message = (
        f"stopped waiting for CodeDeploy deployment {deployment_id} (last status "
        f"{last_status}) with {remaining_seconds:.0f}s left before the Lambda timeout. "
    )
    if progress:
        message += f"Progress: {progress}. "
    if stop_said is not None:
        message += stop_said
    elif last_status == "Ready":
        message += (
            f"The deployment is Ready: {READY_EXPLANATION}. Raising the function's timeout "
            f"will not help; to continue run: {continue_command(deployment_id)} . "
        )
    else:
        message += "The deployment keeps running in CodeDeploy. "
        message += _wait_again_step(
            deployment_id, terraform_action, function_timeout, retry_attaches=retry_attaches
        )
    if group_clock_note:
        message += group_clock_note
    return message + f"Console: {console_url}"


def stop_message(said: str | None, error: Exception | None) -> str:
    """The StopDeployment part of a timeout message (``stopOnTimeout``)."""
    if error is not None:
        return (
            "stopOnTimeout is set but StopDeployment failed, so the deployment may still be "
            f"running: {error}. "
        )
    return (
        "stopOnTimeout is set: StopDeployment was called with autoRollbackEnabled=true "
        f"(CodeDeploy said: {said}); the deployment is being stopped and rolled back. "
    )


def active_timeout_message(active_deployment_id: str) -> str:
    return (
        f"gave up waiting for active deployment {active_deployment_id} in the deployment group "
        "to end before creating ours: the function is about to run out of time. Nothing was "
        "created; apply again once it has ended."
    )


def duplicate_in_progress_message(application_name: str, deployment_group_name: str) -> str:
    group = f"{application_name}/{deployment_group_name}"
    return (
        "gave up waiting for an identical request (same input) that was still creating its "
        f"deployment in {group}: its idempotency record stayed in progress until this function "
        "was about to run out of time. Either that invocation is still inside CreateDeployment, "
        "or it ended without saying what it created; its record expires when that invocation's "
        "own time would have run out. Nothing was created by this invocation. Check the "
        f"group's deployments (aws deploy list-deployments --application-name {application_name} "
        f"--deployment-group-name {deployment_group_name} --include-only-statuses Created "
        "Queued InProgress Ready) "
        'and attach to the one running with {"deploymentId": "<id>"}, or apply again once '
        "the record has expired."
    )


def active_ready_message(active_deployment_id: str, console_url: str) -> str:
    return (
        f"the deployment group's active deployment {active_deployment_id} is Ready: "
        f"{READY_EXPLANATION}. It will not end by itself before the group's wait time, so "
        'onActiveDeployment "wait" does not wait for it. Nothing was created. To continue it '
        f"run: {continue_command(active_deployment_id)} , then apply again. "
        f"Console: {console_url}"
    )


def create_outcome_unknown_message(group: str, cause: str, since: str) -> str:
    return (
        f"CreateDeployment for {group} may or may not have started a deployment ({cause}), "
        f"and no deployment of this revision created since {since} was found in the group. "
        "It was not retried, because CodeDeploy has no idempotency token and a resend could "
        "deploy twice. Check the group's deployments in the console, then apply again."
    )


def create_interrupted_message(group: str, since: str) -> str:
    """The watchdog interrupted CreateDeployment (or the look-up after an ambiguous one)."""
    return (
        f"ran out of time while CreateDeployment for {group} had no answer yet, so it may or "
        "may not have started a deployment; it was not resent, because CodeDeploy has no "
        f"idempotency token. Check the group's deployments created since {since} in the "
        'console: attach to ours with {"deploymentId": "<id>"}, or apply again if there is '
        "none."
    )


def out_of_time_before_create_message(function_timeout: int | None = None) -> str:
    raise_it = (
        ""
        if function_timeout is not None and function_timeout >= LAMBDA_MAX_TIMEOUT_SECONDS
        else ", or raise the function's timeout"
    )
    return (
        "ran out of time before CreateDeployment was sent (a call did not answer before the "
        f"function's deadline): no deployment was created. Apply again{raise_it}."
    )


def create_outcome_ambiguous_message(group: str, cause: str, candidates: list[str]) -> str:
    return (
        f"CreateDeployment for {group} failed on the way back ({cause}) and several "
        f"deployments of this revision were created meanwhile: {', '.join(candidates)}. "
        "Not knowing which is ours, the trigger does not wait; check them in the console."
    )


TABLE_NEEDED = (
    "a history query reads the DynamoDB status table (the recorder's), and there is nothing "
    "else to read: set it to the module's status_table_name"
)


def history_unavailable_message(reason: str, code: str | None, table: str) -> str:
    """The status table would not answer a history query: DynamoDB's words (``reason``, its
    error ``code``) and what to do about the usual causes."""
    hints = {
        # DynamoDB: "The table does not have the specified index: byGroup".
        "ValidationException": (
            f"the table has no {BY_GROUP_INDEX} index, so it was made by an older version of "
            "the module: apply the module again (adding the index is an in-place change); "
            "deployments last written before that stay out of it"
        ),
        "AccessDeniedException": (
            f"the trigger's role needs dynamodb:Query on the index ARN "
            f"(<table ARN>/index/{BY_GROUP_INDEX}); the module grants it"
        ),
        "ResourceNotFoundException": (
            f"no table {table} in this account and region: check STATUS_TABLE_NAME"
        ),
    }
    hint = hints.get(code or "")
    return f"could not read the deployment history: {reason}" + (f". {hint}" if hint else "")


# --- CodeDeploy's refusals: what AWS said (quoted by the adapter) and what to do about it ---

CODEDEPLOY_HINTS = {
    "ApplicationDoesNotExistException": "check applicationName",
    "DeploymentGroupDoesNotExistException": "check deploymentGroupName",
    "DeploymentConfigDoesNotExistException": "check deploymentConfigName",
    "DeploymentDoesNotExistException": "check deploymentId",
    "InvalidDeploymentIdException": "check deploymentId",
    "AccessDeniedException": "the function's role lacks this CodeDeploy permission",
    # botocore's model: "The service role ARN was specified in an invalid format.
    # Or, if an Auto Scaling group was specified, the specified service role does
    # not grant the appropriate permissions to Amazon EC2 Auto Scaling."
    "InvalidRoleException": (
        "check the deployment group's service role: its ARN may be malformed, or, with Auto "
        "Scaling groups in the deployment group, the role lacks the Auto Scaling permissions "
        "(see the AWSCodeDeployRole managed policy)"
    ),
}


def codedeploy_failure_message(operation: str, code: str, aws_message: str, context: str) -> str:
    """A CodeDeploy call failed: AWS's words, the request's ids (``context``), and a hint."""
    hint = CODEDEPLOY_HINTS.get(code)
    if hint is None and code.startswith("Invalid"):
        hint = "CodeDeploy rejected the request's content"
    text = f"CodeDeploy {operation} failed ({code}): {aws_message}"
    if context:
        text += f" [{context}]"
    if hint:
        text += f"; {hint}"
    return text


NOT_SENT_HINTS = {
    "ParamValidationError": (
        "The function's boto3 rejected the request: its CodeDeploy model may be older than "
        "the input's keys (the Lambda runtime's bundled boto3 is not pinned)."
    ),
    "NoCredentialsError": "The function found no AWS credentials: check its execution role.",
    "PartialCredentialsError": "The function's AWS credentials are incomplete.",
    "CredentialRetrievalError": "The function could not load its AWS credentials.",
    "NoRegionError": "No region is set: set AWS_REGION.",
}


def create_not_sent_message(group: str, kind: str, error: str) -> str:
    """boto3 refused to build or sign CreateDeployment (``kind``: botocore's exception)."""
    return (
        f"CodeDeploy CreateDeployment for {group} was not sent ({kind}): {error}; no deployment "
        f"was created. {NOT_SENT_HINTS.get(kind, 'Fix the cause, then apply again.')}"
    )


def active_conflict_message(group: str, active: str | None, aws_message: str) -> str:
    """DeploymentLimitExceededException: the group is busy (``active`` named), or the
    account is full."""
    if active:
        cause = f"deployment group {group} already has an active deployment (deployment {active})"
    else:
        cause = (
            f"CodeDeploy refused another deployment: either deployment group {group} already has "
            "an active deployment, or the account reached its CodeDeploy quota of concurrent "
            'deployments ("Concurrent deployments per account", adjustable in Service Quotas)'
        )
    return (
        f"{cause}; CodeDeploy runs one deployment per group at a time. Wait for it to end, or "
        f'set onActiveDeployment to "wait". CodeDeploy said: {aws_message}'
    )


# --- continue and stop: a deployment this function created -------------------------------------

CONTINUE_NEEDS = {
    "READY_WAIT": "READY_WAIT reroutes traffic from a deployment in Ready (a blue/green "
    "replacement waiting for traffic)",
    "TERMINATION_WAIT": "TERMINATION_WAIT ends the wait before the original environment is "
    "terminated (a blue/green deployment with TERMINATE that is InProgress after all traffic "
    "has moved: instanceTerminationWaitTimeStarted true)",
}


def continue_state_message(
    deployment_id: str, wait_type: str, status: str, termination_wait_started: bool
) -> str:
    """ContinueDeployment was not sent: the deployment is not where ``wait_type`` acts."""
    state = status
    if status == DeploymentStatus.IN_PROGRESS and wait_type == "TERMINATION_WAIT":
        started = "started" if termination_wait_started else "not started"
        state = f"{status}, its termination wait {started}"
    if status in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.STOPPED):
        step = "it has ended, so there is nothing to continue"
    elif wait_type == "READY_WAIT":
        step = 'wait until it is Ready first (waitUntil "Ready"), then continue it'
    elif status == DeploymentStatus.READY:
        step = 'continue it with "READY_WAIT" first; traffic has not moved yet'
    else:
        step = (
            'wait until production traffic has moved first (waitUntil "TrafficShifted"); a '
            "deployment that is not blue/green with TERMINATE never has a termination wait"
        )
    return (
        f"continue: deployment {deployment_id} is {state}, and {CONTINUE_NEEDS[wait_type]}. "
        f"Nothing was continued; {step}."
    )


def stop_state_message(deployment_id: str, status: str) -> str:
    """StopDeployment was not sent: the deployment has ended."""
    return (
        f"stop: deployment {deployment_id} has already ended ({status}), and StopDeployment "
        "acts on a deployment that has not. Nothing was stopped."
    )


def control_unrecorded_message(field: str, operation: str, deployment_id: str, error: str) -> str:
    """The status table would not take the note that comes before the call."""
    return (
        f"{field}: could not note in the status table that this function sends {operation} "
        f"for deployment {deployment_id} ({error}), and without that note a repeated request "
        f"could not tell what happened. Nothing was sent; retry."
    )


def control_note_kept_message(field: str, action: str, deployment_id: str, error: str) -> str:
    """CodeDeploy refused a control call and the status table would not take back the note
    written before it: a repeated request would trust the note and not send the call."""
    if action == "STOP":
        command = f"aws deploy stop-deployment --deployment-id {deployment_id}"
    else:
        command = (
            f"aws deploy continue-deployment --deployment-id {deployment_id} "
            f"--deployment-wait-type {action}"
        )
    return (
        f"The status table still notes this call as sent (taking the note back failed: "
        f"{error}), so a repeated {field} request for deployment {deployment_id} may wait "
        f"for it instead of sending it. Once CodeDeploy would accept it, run: {command}"
    )


def stopped_rollback_message(deployment_id: str, rollback: str, console_url: str) -> str:
    """A stop request's deployment was stopped, and its rollback did not end well."""
    return (
        f"deployment {deployment_id} was stopped as asked (StopDeployment with "
        f"autoRollbackEnabled=true), but its rollback did not succeed: {rollback}. Check the "
        f"deployment group before deploying again. Console: {console_url}"
    )


SUPERSEDE_UNNAMED = (
    'It was not superseded: onActiveDeployment "supersede" stops only a deployment this '
    "function created, and CodeDeploy's answer did not name the active deployment."
)


def not_superseded_message(conflict: str, refusal: str) -> str:
    """``onActiveDeployment: "supersede"`` met a deployment it must not stop."""
    return f"{conflict} It was not superseded: {refusal}"


def supersede_timeout_message(waited_for: str) -> str:
    """Out of time while the superseded deployment (or its rollback) was ending."""
    return (
        f"gave up waiting for {waited_for} to end before creating ours "
        '(onActiveDeployment "supersede"): the function is about to run out of time. Nothing '
        "was created; apply again: the repeated request does not stop anything again, it "
        "waits for the group to be free and then creates the deployment."
    )
