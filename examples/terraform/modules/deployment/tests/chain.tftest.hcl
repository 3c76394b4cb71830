# Plan-time tests of the chain with a mocked aws provider: no credentials, no
# network, nothing invoked. `make tf-check` runs them (`terraform test`).
#
# What they prove: changing how to wait (wait_until, stop_on_timeout,
# max_wait_minutes, wait_for_rollback, function_timeout_seconds,
# deadline_margin_seconds) leaves the deploying link (aws_lambda_invocation.deploy)
# exactly as it was: the same input string, triggers, function_name and
# lifecycle_scope. A mocked provider cannot say "replace" itself (it runs none
# of the provider's CustomizeDiff), so the proof is the provider's own rule
# (terraform-provider-aws internal/service/lambda/invocation.go): under
# CREATE_ONLY only a changed input (customizeDiffInputChangeWithCreateOnlyScope)
# or a changed ForceNew argument (function_name, qualifier, triggers) replaces an
# invocation, and an unchanged one is not touched. Every run below compares the
# deploying link's input with the same literal, and also checks that the change
# did reach the waiting links; the last runs show the comparison fails when the
# deployment or the triggers change.

mock_provider "aws" {
  # Results of the links, known at plan time so that the waiting links' inputs
  # (built from the previous link's result) can be asserted.
  override_resource {
    target          = aws_lambda_invocation.deploy
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"Created\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.link_1
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.link_2
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.link_3
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.link_4
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.continue_1
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.continue_2
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.continue_3
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"InProgress\",\"complete\":false}"
    }
  }
  override_resource {
    target          = aws_lambda_invocation.continue_4
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"Succeeded\",\"complete\":true}"
    }
  }
}

variables {
  function_name = "cdt-trigger"
  triggers      = { task_definition = "app:7" }
  deployment = {
    applicationName     = "web"
    deploymentGroupName = "web-prod"
    description         = "release 42"
    revision = {
      revisionType   = "AppSpecContent"
      appSpecContent = { content = "version: 0.0" }
    }
  }
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "the defaults changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "the defaults changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  # 58 minutes of 870 s links: 4 waiting links, each attaching to the deployment.
  assert {
    condition     = output.links == 4 && length(aws_lambda_invocation.link_4) == 1
    error_message = "58 minutes with a 900 s timeout and a 30 s margin need 4 waiting links"
  }
  assert {
    condition = jsondecode(aws_lambda_invocation.link_1.input) == {
      deploymentId    = "d-ABCDEFGHI"
      wait            = true
      waitUntil       = "Succeeded"
      waitForRollback = true
      onDeadline      = "return"
      stopOnTimeout   = false
      includeLogTails = true
    }
    error_message = "waiting link 1 must attach to the created deployment and hand over at its deadline"
  }
  assert {
    condition     = [jsondecode(aws_lambda_invocation.link_4[0].input).onDeadline, jsondecode(aws_lambda_invocation.link_4[0].input).deploymentId] == ["fail", "d-ABCDEFGHI"]
    error_message = "the last waiting link must attach and fail at its deadline"
  }
}

# wait_until: on every waiting link, never on the deploying one.
run "wait_until_changes_only_the_waiting_links" {
  command = plan

  variables {
    wait_until = "Ready"
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "wait_until changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "wait_until changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = jsondecode(aws_lambda_invocation.link_1.input).waitUntil == "Ready"
    error_message = "wait_until must reach the waiting links"
  }
}

# stop_on_timeout: on the last waiting link only.
run "stop_on_timeout_changes_only_the_last_link" {
  command = plan

  variables {
    stop_on_timeout = true
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "stop_on_timeout changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "stop_on_timeout changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = jsondecode(aws_lambda_invocation.link_4[0].input).stopOnTimeout && !jsondecode(aws_lambda_invocation.link_3[0].input).stopOnTimeout
    error_message = "stop_on_timeout must reach the last waiting link only"
  }
}

# max_wait_minutes: fewer links (20 min / 14.5 = 2), the deploying link as it was.
run "max_wait_minutes_changes_only_the_waiting_links" {
  command = plan

  variables {
    max_wait_minutes = 20
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "max_wait_minutes changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "max_wait_minutes changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = output.links == 2 && length(aws_lambda_invocation.link_3) == 0 && jsondecode(aws_lambda_invocation.link_2[0].input).onDeadline == "fail"
    error_message = "max_wait_minutes = 20 must give 2 waiting links, the second one the last"
  }
}

# wait_for_rollback: a waiting option too.
run "wait_for_rollback_changes_only_the_waiting_links" {
  command = plan

  variables {
    wait_for_rollback = false
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "wait_for_rollback changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "wait_for_rollback changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = !jsondecode(aws_lambda_invocation.link_1.input).waitForRollback
    error_message = "wait_for_rollback must reach the waiting links"
  }
}

# A shorter function timeout: shorter links, so more of them for the same wait (20 min / 4 min = 5 > 4: use 15).
# include_log_tails: on every waiting link (any may report the failure), never on the deploying one.
run "include_log_tails_changes_only_the_waiting_links" {
  command = plan

  variables {
    include_log_tails = false
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "include_log_tails changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = alltrue([for input in [aws_lambda_invocation.link_1.input, aws_lambda_invocation.link_4[0].input] : jsondecode(input).includeLogTails == false])
    error_message = "include_log_tails must reach every waiting link: any of them may report the failure"
  }
}

run "function_timeout_changes_only_the_waiting_links" {
  command = plan

  variables {
    function_timeout_seconds = 300
    max_wait_minutes         = 15
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "function_timeout_seconds changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "function_timeout_seconds changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = output.links == 4
    error_message = "15 minutes of 270 s links need 4 waiting links"
  }
}

# A wider margin: shorter links (20 min / (900 - 330) s = 2.1, so 3 links).
run "deadline_margin_changes_only_the_waiting_links" {
  command = plan

  variables {
    deadline_margin_seconds = 330
    max_wait_minutes        = 20
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "deadline_margin_seconds changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:7" }) && aws_lambda_invocation.deploy.function_name == "cdt-trigger" && aws_lambda_invocation.deploy.lifecycle_scope == "CREATE_ONLY"
    error_message = "deadline_margin_seconds changed the deploying link's triggers, function_name or lifecycle_scope"
  }

  assert {
    condition     = output.links == 3
    error_message = "20 minutes of 570 s links need 3 waiting links"
  }
}

# The comparison above can fail: a new deployment request or new triggers are
# exactly what replaces the deploying link.
run "a_new_deployment_request_changes_the_deploying_link" {
  command = plan

  variables {
    deployment = {
      applicationName     = "web"
      deploymentGroupName = "web-prod"
      description         = "release 43"
      revision = {
        revisionType   = "AppSpecContent"
        appSpecContent = { content = "version: 0.0" }
      }
    }
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input != "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "a new deployment request must change the deploying link's input (and so start a deployment)"
  }
}

run "new_triggers_change_the_deploying_link" {
  command = plan

  variables {
    triggers = { task_definition = "app:8" }
  }

  assert {
    condition     = aws_lambda_invocation.deploy.triggers == tomap({ task_definition = "app:8" })
    error_message = "new triggers must reach the deploying link (and so start a deployment)"
  }
}

# Waiting options inside the deployment request would replace the deploying
# link when they change: refused, naming the variable to use.
run "waiting_options_in_the_deployment_are_refused" {
  command = plan

  variables {
    deployment = {
      applicationName     = "web"
      deploymentGroupName = "web-prod"
      waitForRollback     = false
    }
  }

  expect_failures = [var.deployment]
}

# The removed variable says what replaced it.
run "link_minutes_is_refused" {
  command = plan

  variables {
    link_minutes = 14.5
  }

  expect_failures = [var.link_minutes]
}

# 4 links of (120 - 30) s = 6 minutes at most.
run "a_wait_beyond_four_links_is_refused" {
  command = plan

  variables {
    function_timeout_seconds = 120
    max_wait_minutes         = 7
  }

  expect_failures = [aws_lambda_invocation.deploy]
}

# --- the Ready gate ----------------------------------------------------------------

# ready_gate: the links wait until Ready; continue_1 continues the deployment they saw
# Ready and waits for wait_until; the deploying link is untouched by the gate.
run "ready_gate_waits_for_ready_then_continues" {
  command = plan

  variables {
    ready_gate  = true
    ready_check = "smoke test passed"
  }

  override_resource {
    target          = aws_lambda_invocation.link_1
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"Ready\",\"complete\":true,\"milestone\":\"Ready\"}"
    }
  }

  assert {
    condition     = aws_lambda_invocation.deploy.input == "{\"applicationName\":\"web\",\"deploymentGroupName\":\"web-prod\",\"description\":\"release 42\",\"revision\":{\"appSpecContent\":{\"content\":\"version: 0.0\"},\"revisionType\":\"AppSpecContent\"},\"wait\":false}"
    error_message = "ready_gate changed the deploying link's input: the provider would replace it and start a new deployment"
  }
  assert {
    condition     = alltrue([for input in [aws_lambda_invocation.link_1.input, aws_lambda_invocation.link_4[0].input] : jsondecode(input).waitUntil == "Ready"])
    error_message = "with ready_gate the links before the gate must wait until Ready"
  }
  assert {
    condition = jsondecode(aws_lambda_invocation.continue_1[0].input) == {
      deploymentId    = "d-ABCDEFGHI"
      continue        = "READY_WAIT"
      waitUntil       = "Succeeded"
      waitForRollback = true
      onDeadline      = "return"
      stopOnTimeout   = false
      includeLogTails = true
    }
    error_message = "continue_1 must continue the deployment seen at Ready and wait for wait_until, handing over at its deadline"
  }
  # As many links after the gate as before it; the last one fails at its deadline.
  assert {
    condition     = output.links == 8 && length(aws_lambda_invocation.continue_4) == 1
    error_message = "with ready_gate each half gets max_wait_minutes: 4 links before the gate and 4 after it"
  }
  assert {
    condition     = jsondecode(aws_lambda_invocation.continue_4[0].input).onDeadline == "fail" && jsondecode(aws_lambda_invocation.continue_4[0].input).waitUntil == "Succeeded" && !contains(keys(jsondecode(aws_lambda_invocation.continue_4[0].input)), "continue")
    error_message = "the links after continue_1 must attach and wait (only continue_1 continues), the last one failing at its deadline"
  }
  assert {
    condition     = output.ready == { deploymentId = "d-ABCDEFGHI", status = "Ready", complete = true, milestone = "Ready" }
    error_message = "output ready must be the result of the link that saw Ready"
  }
}

# waitUntil TrafficShifted after the gate (blue/green with a termination wait).
run "ready_gate_then_traffic_shifted" {
  command = plan

  variables {
    ready_gate       = true
    ready_check      = "ok"
    wait_until       = "TrafficShifted"
    max_wait_minutes = 20
  }

  override_resource {
    target          = aws_lambda_invocation.link_1
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"Ready\",\"complete\":true,\"milestone\":\"Ready\"}"
    }
  }

  assert {
    condition     = jsondecode(aws_lambda_invocation.continue_1[0].input).waitUntil == "TrafficShifted" && jsondecode(aws_lambda_invocation.continue_1[0].input).continue == "READY_WAIT" && jsondecode(aws_lambda_invocation.link_1.input).waitUntil == "Ready"
    error_message = "wait_until = TrafficShifted must reach the links after the gate, and the links before it still wait for Ready"
  }
  assert {
    condition     = output.links == 4 && length(aws_lambda_invocation.continue_3) == 0 && jsondecode(aws_lambda_invocation.continue_2[0].input).onDeadline == "fail"
    error_message = "max_wait_minutes = 20 must give 2 links on each side of the gate"
  }
}

# A deployment that never stops at Ready (a group without a Ready wait) reaches its end in
# the first half: continue_1 attaches instead of continuing (ContinueDeployment would be
# refused for a deployment that is not Ready).
run "ready_gate_on_a_deployment_that_never_stops_at_ready_attaches" {
  command = plan

  variables {
    ready_gate  = true
    ready_check = "ok"
  }

  override_resource {
    target          = aws_lambda_invocation.link_1
    override_during = plan
    values = {
      result = "{\"deploymentId\":\"d-ABCDEFGHI\",\"status\":\"Succeeded\",\"complete\":true,\"milestone\":\"Succeeded\"}"
    }
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_lambda_invocation.continue_1[0].input)), "continue") && jsondecode(aws_lambda_invocation.continue_1[0].input).deploymentId == "d-ABCDEFGHI"
    error_message = "continue_1 must not continue a deployment that is not Ready"
  }
}

# Without the gate nothing continues: no continue link at all.
run "no_continue_link_without_ready_gate" {
  command = plan

  assert {
    condition     = length(aws_lambda_invocation.continue_1) == 0 && output.ready == null && output.links == 4
    error_message = "without ready_gate the chain has no continue link and no ready output"
  }
}

# ready_gate without ready_check would continue at once: refused before anything deploys.
run "ready_gate_without_ready_check_is_refused" {
  command = plan

  variables {
    ready_gate = true
  }

  expect_failures = [aws_lambda_invocation.continue_1]
}

run "ready_gate_with_wait_until_ready_is_refused" {
  command = plan

  variables {
    ready_gate  = true
    ready_check = "ok"
    wait_until  = "Ready"
  }

  expect_failures = [aws_lambda_invocation.deploy]
}

run "an_unknown_milestone_is_refused" {
  command = plan

  variables {
    wait_until = "Shifted"
  }

  expect_failures = [var.wait_until]
}

# ready_check alone holds nothing: a warning says so.
run "ready_check_without_ready_gate_warns" {
  command = plan

  variables {
    ready_check = "ok"
  }

  expect_failures = [check.ready_check_needs_ready_gate]
}

# A caller whose check reads the output `ready` and feeds `ready_check` plans without a
# cycle (ready -> check -> ready_check -> continue_1), and the gate's precondition and the
# check block hold with the check's result still unknown.
run "a_check_between_ready_and_continue_plans_without_a_cycle" {
  command = plan

  module {
    source = "./tests/ready_gate"
  }

  # No assertion needed: with a cycle the plan itself fails, and this run with it.
}
