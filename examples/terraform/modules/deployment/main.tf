# A chain of aws_lambda_invocation resources that waits for one CodeDeploy
# deployment longer than one Lambda invocation can (15 minutes at most, also
# for synchronous invocations of durable functions).
#
# `deploy` creates the deployment and does not wait (wait = false): its input
# is the deployment request and nothing else, so only `deployment` and
# `triggers` can replace it, and only replacing it starts a deployment. Every
# waiting option lives on the waiting links (link_1 .. link_4), which attach
# to the deployment by id ({"deploymentId": ...} from `deploy`'s result). An
# attach starts nothing, so replacing a waiting link (a changed wait_until,
# stop_on_timeout, max_wait_minutes, wait_for_rollback, include_log_tails, function timeout or
# margin) is harmless: it looks at the same deployment again, and one that
# already ended answers at once.
#
# Every waiting link but the last one has onDeadline = "return": near its
# deadline it returns {"complete": false, ...} instead of failing, and the next
# link carries on. The last link has onDeadline = "fail" (DeploymentWaitTimeout).
# After a link that met the milestone, the next ones run with wait = false.
#
# Why separate resources and not one resource with `count`: an instance of a
# counted resource cannot refer to another instance of the same resource
# (`aws_lambda_invocation.link[count.index - 1]`). `terraform validate`
# accepts that, and `terraform plan` then fails with "Error: Cycle". So each
# link is its own resource, switched on by `count`, and the chain has a fixed
# ceiling: local.max_links.
#
# With ready_gate = true the chain has two halves. link_1 .. link_4 wait until
# Ready (output `ready`); the caller's check runs between, reading that output; the
# continue links (continue_1 .. continue_4) wait for var.ready_check, the check's
# result, so they run only after the check succeeded. continue_1 sends
# {"deploymentId", "continue": "READY_WAIT", "waitUntil": var.wait_until} and waits;
# continue_2 .. continue_4 attach and wait as link_2 .. link_4 do. A module's inputs
# and outputs are separate nodes of Terraform's graph, so a resource outside that
# reads module.x.ready and feeds module.x's ready_check makes no cycle. A failing
# check fails the apply before continue_1: the deployment stays in Ready (see
# README.md for the ways out: a stop request, or the group's own Ready timeout).
#
# lifecycle_scope stays CREATE_ONLY (the provider's default). In
# terraform-provider-aws internal/service/lambda/invocation.go,
# customizeDiffInputChangeWithCreateOnlyScope forces a new resource on any
# change of `input`; function_name, qualifier and triggers are ForceNew in the
# schema; Create sets the id only after an invocation without FunctionError
# (a failed link is not saved, so the next apply invokes it again); Delete
# invokes nothing under CREATE_ONLY. See README.md for how a failed chain is
# retried.

locals {
  max_links = 4

  # What one waiting link can wait: the function's timeout minus the trigger's
  # DEADLINE_MARGIN_SECONDS (module.trigger outputs trigger_timeout_seconds and
  # deadline_margin_seconds).
  link_seconds = var.function_timeout_seconds - var.deadline_margin_seconds
  links        = ceil(var.max_wait_minutes * 60 / local.link_seconds)
  # With the gate each half (to Ready, then from Ready to wait_until) may wait
  # max_wait_minutes with as many links.
  continue_links = var.ready_gate ? local.links : 0

  # Waiting options per waiting link position (1-based), for each half. Only the
  # last link of a half fails on its deadline, and only it may stop the
  # deployment then.
  waiting = {
    for position in range(1, local.max_links + 1) : position => {
      waitUntil       = var.ready_gate ? "Ready" : var.wait_until
      waitForRollback = var.wait_for_rollback
      onDeadline      = position < local.links ? "return" : "fail"
      stopOnTimeout   = var.stop_on_timeout && position == local.links
      # Any waiting link may be the one that reports the failure.
      includeLogTails = var.include_log_tails
    }
  }
  continuing = {
    for position, options in local.waiting : position => merge(options, { waitUntil = var.wait_until })
  }
}

# The deploying link: the deployment request, wait = false. Nothing else may
# enter this input (see above).
resource "aws_lambda_invocation" "deploy" {
  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"
  triggers        = var.triggers

  input = jsonencode(merge(var.deployment, { wait = false }))

  lifecycle {
    precondition {
      condition     = local.link_seconds > 0
      error_message = "function_timeout_seconds (${var.function_timeout_seconds}) must be more than deadline_margin_seconds (${var.deadline_margin_seconds}): a link would have no time to wait. Pass module.trigger.trigger_timeout_seconds and module.trigger.deadline_margin_seconds."
    }
    precondition {
      condition     = !(var.ready_gate && var.wait_until == "Ready")
      error_message = "wait_until = \"Ready\" with ready_gate = true: the gate already stops at Ready; wait_until says what to wait for after it, \"Succeeded\" or \"TrafficShifted\"."
    }
    precondition {
      condition     = local.links <= local.max_links
      error_message = "max_wait_minutes (${var.max_wait_minutes}) needs ${local.links} links of ${local.link_seconds / 60} minutes (function_timeout_seconds ${var.function_timeout_seconds} - deadline_margin_seconds ${var.deadline_margin_seconds}); the chain has ${local.max_links}, so max_wait_minutes must be at most ${local.max_links * local.link_seconds / 60}. For longer deployments create the deployment with wait = false and attach to it later."
    }
  }
}

# The waiting links: attach to the deployment `deploy` created.

resource "aws_lambda_invocation" "link_1" {
  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.waiting[1], {
    deploymentId = jsondecode(aws_lambda_invocation.deploy.result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.deploy.result).complete
  }))
}

resource "aws_lambda_invocation" "link_2" {
  count = local.links >= 2 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.waiting[2], {
    deploymentId = jsondecode(aws_lambda_invocation.link_1.result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_1.result).complete
  }))
}

resource "aws_lambda_invocation" "link_3" {
  count = local.links >= 3 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.waiting[3], {
    deploymentId = jsondecode(aws_lambda_invocation.link_2[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_2[0].result).complete
  }))
}

resource "aws_lambda_invocation" "link_4" {
  count = local.links >= 4 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.waiting[4], {
    deploymentId = jsondecode(aws_lambda_invocation.link_3[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.link_3[0].result).complete
  }))
}

locals {
  # Raw results (JSON strings) of the waiting links that exist, in order.
  # Strings keep one element type whatever keys each result has.
  link_results = [
    for result in [
      aws_lambda_invocation.link_1.result,
      one(aws_lambda_invocation.link_2[*].result),
      one(aws_lambda_invocation.link_3[*].result),
      one(aws_lambda_invocation.link_4[*].result),
    ] : result if result != null
  ]
  # The first link that met the milestone holds the answer; later links only
  # confirmed it. Without one (impossible after a successful apply) the last link.
  completed_results = [for result in local.link_results : result if jsondecode(result).complete]
  links_result      = concat(local.completed_results, [local.link_results[length(local.link_results) - 1]])[0]
}

# --- the Ready gate (ready_gate = true) -------------------------------------------

resource "aws_lambda_invocation" "continue_1" {
  count = var.ready_gate ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  # Continue only a deployment that stopped at Ready; one that never does (no
  # Ready stage in its group) reached its end already: attach to it instead.
  input = jsonencode(merge(
    local.continuing[1],
    { deploymentId = jsondecode(local.links_result).deploymentId },
    jsondecode(local.links_result).status == "Ready" ? { continue = "READY_WAIT" } : {},
  ))

  lifecycle {
    # Also what orders this link after the caller's check: Terraform counts the
    # references of a condition as dependencies.
    precondition {
      condition     = var.ready_check != null
      error_message = "ready_gate = true needs ready_check: pass the result of the resource that checks the deployment at Ready (e.g. terraform_data.smoke_test.output), so that the deployment is continued only after that check succeeded."
    }
  }
}

resource "aws_lambda_invocation" "continue_2" {
  count = local.continue_links >= 2 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.continuing[2], {
    deploymentId = jsondecode(aws_lambda_invocation.continue_1[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.continue_1[0].result).complete
  }))
}

resource "aws_lambda_invocation" "continue_3" {
  count = local.continue_links >= 3 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.continuing[3], {
    deploymentId = jsondecode(aws_lambda_invocation.continue_2[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.continue_2[0].result).complete
  }))
}

resource "aws_lambda_invocation" "continue_4" {
  count = local.continue_links >= 4 ? 1 : 0

  function_name   = var.function_name
  lifecycle_scope = "CREATE_ONLY"

  input = jsonencode(merge(local.continuing[4], {
    deploymentId = jsondecode(aws_lambda_invocation.continue_3[0].result).deploymentId
    wait         = !jsondecode(aws_lambda_invocation.continue_3[0].result).complete
  }))
}

locals {
  continue_results = [
    for result in [
      one(aws_lambda_invocation.continue_1[*].result),
      one(aws_lambda_invocation.continue_2[*].result),
      one(aws_lambda_invocation.continue_3[*].result),
      one(aws_lambda_invocation.continue_4[*].result),
    ] : result if result != null
  ]
  completed_continue_results = [for result in local.continue_results : result if jsondecode(result).complete]
  continue_result = var.ready_gate ? concat(
    local.completed_continue_results,
    [local.continue_results[length(local.continue_results) - 1]],
  )[0] : null

  final_result = var.ready_gate ? local.continue_result : local.links_result
}

# ready_check without ready_gate holds nothing: say so (a warning; a check block
# creates no dependency, so the module's links do not wait for the caller's check).
check "ready_check_needs_ready_gate" {
  assert {
    condition     = var.ready_gate ? true : var.ready_check == null
    error_message = "ready_check is set but ready_gate is false: nothing waits for that check and the deployment is not held at Ready. Set ready_gate = true, or drop ready_check."
  }
}
