# Plan-time tests of the module with a mocked aws provider: no credentials, no
# network, no resources. `make tf-check` runs them (`terraform test`).

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { id = "eu-west-1", name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # Roles and policies validate their JSON at plan time; the statements are
  # asserted on the data sources' own blocks below.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}", minified_json = "{}" }
  }
}

variables {
  # An empty zip: the module only hashes it.
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

run "defaults_plan" {
  command = plan

  assert {
    condition     = aws_lambda_function.trigger.timeout == 900
    error_message = "the default timeout must pass the minimum-timeout check"
  }

  # CreateDeployment takes no role: the trigger needs no iam:PassRole.
  assert {
    condition = !anytrue([
      for s in data.aws_iam_policy_document.trigger.statement : contains(s.actions, "iam:PassRole")
    ])
    error_message = "the trigger's policy must not grant iam:PassRole"
  }

  # Replay checks and ambiguous-create recovery read the group's deployments,
  # scoped like CreateDeployment to the deployment groups of the applications.
  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.actions, s.resources]
      if s.sid == "ReadGroupDeployments"
      ] == [[
        toset(["codedeploy:ListDeployments", "codedeploy:BatchGetDeployments"]),
        toset(["arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:web/*"]),
    ]]
    error_message = "the trigger's policy must allow ListDeployments and BatchGetDeployments on the applications' deployment groups"
  }

  # Actions without a resource type are evaluated against "*" only: granted there, and
  # nowhere else (make iam-check checks every action against the reference).
  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.actions, s.resources]
      if s.sid == "ControlAndReadTargets"
      ] == [[
        toset(["codedeploy:StopDeployment", "codedeploy:ContinueDeployment", "codedeploy:ListDeploymentTargets", "codedeploy:BatchGetDeploymentTargets"]),
        toset(["*"]),
    ]]
    error_message = "StopDeployment, ContinueDeployment, ListDeploymentTargets and BatchGetDeploymentTargets must be granted on \"*\""
  }

  # The failure explanation reads the group (its alarms) on its deploymentgroup ARN; the
  # group's clock reads a custom deployment configuration on deploymentconfig:* of the account
  # and region (the predefined CodeDeployDefault.* ones are evaluated there too).
  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.sid, s.actions, s.resources]
      if contains(["ReadDeploymentGroup", "ReadDeploymentConfig"], s.sid)
      ] == [
      ["ReadDeploymentConfig", toset(["codedeploy:GetDeploymentConfig"]), toset(["arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:*"])],
      ["ReadDeploymentGroup", toset(["codedeploy:GetDeploymentGroup"]), toset(["arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:web/*"])],
    ]
    error_message = "GetDeploymentGroup must be granted on the applications' deployment groups and GetDeploymentConfig on the account's deployment configurations"
  }

  # Tracing off by default: no X-Ray statement in either role.
  assert {
    condition = !anytrue(concat(
      [for s in data.aws_iam_policy_document.trigger.statement : contains(s.actions, "xray:PutTraceSegments")],
      [for s in data.aws_iam_policy_document.recorder[0].statement : contains(s.actions, "xray:PutTraceSegments")],
    ))
    error_message = "without Active tracing the roles must not grant X-Ray writes"
  }

  # Only the recorder's own account and region unless asked for.
  assert {
    condition     = !contains(keys(aws_lambda_function.recorder[0].environment[0].variables), "RECORDER_ALLOWED_EVENT_ORIGINS")
    error_message = "RECORDER_ALLOWED_EVENT_ORIGINS must be left unset by default"
  }

  # An unset fallback cap is left to the function (it then follows the interval).
  assert {
    condition     = !contains(keys(aws_lambda_function.trigger.environment[0].variables), "FALLBACK_POLL_MAX_INTERVAL_SECONDS")
    error_message = "FALLBACK_POLL_MAX_INTERVAL_SECONDS must be left unset by default"
  }
}

run "fallback_cap_when_given" {
  command = plan

  variables {
    fallback_poll_interval_seconds     = 600
    fallback_poll_max_interval_seconds = 900
  }

  assert {
    condition     = aws_lambda_function.trigger.environment[0].variables["FALLBACK_POLL_MAX_INTERVAL_SECONDS"] == "900"
    error_message = "an explicit fallback cap must reach the function"
  }
}

run "active_tracing_grants_xray_writes_to_both_roles" {
  command = plan

  variables {
    tracing_mode = "Active"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : s.actions if s.sid == "XRayTracing"
    ] == [toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])]
    error_message = "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords in the trigger's role"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.recorder[0].statement : s.actions if s.sid == "XRayTracing"
    ] == [toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])]
    error_message = "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords in the recorder's role"
  }
}

# deadline_margin_seconds + 2 * status_read_interval_seconds + 10 = 30 + 2 + 10 = 42.
run "timeout_below_the_minimum_is_refused" {
  command = plan

  variables {
    timeout = 41
  }

  expect_failures = [aws_lambda_function.trigger]
}

run "timeout_at_the_minimum_is_accepted" {
  command = plan

  variables {
    timeout = 42
  }

  assert {
    condition     = aws_lambda_function.trigger.timeout == 42
    error_message = "timeout = 42 s meets the minimum (30 + 2 * 1 + 10)"
  }
}

# 85 + 2 * 4 + 10 = 103 > 100 (4 s: the slowest read interval the trigger accepts).
run "the_minimum_follows_the_margin_and_the_read_interval" {
  command = plan

  variables {
    timeout                      = 100
    deadline_margin_seconds      = 85
    status_read_interval_seconds = 4
  }

  expect_failures = [aws_lambda_function.trigger]
}

# The recorder's slowest DynamoDB write (15 s) and its 5 s margin: at least 20 s.
run "recorder_timeout_below_its_slowest_write_is_refused" {
  command = plan

  variables {
    recorder_timeout = 19
  }

  expect_failures = [var.recorder_timeout]
}

# Only the recorder's own account and region by default; a central bus lists the others.
run "recorder_event_origins" {
  command = plan

  variables {
    recorder_allowed_event_origins = ["210987654321:eu-west-1", "111111111111"]
  }

  assert {
    condition     = aws_lambda_function.recorder[0].environment[0].variables["RECORDER_ALLOWED_EVENT_ORIGINS"] == "210987654321:eu-west-1,111111111111"
    error_message = "recorder_allowed_event_origins must reach the recorder as RECORDER_ALLOWED_EVENT_ORIGINS"
  }
}

run "recorder_event_origins_are_checked" {
  command = plan

  variables {
    recorder_allowed_event_origins = ["eu-west-1:210987654321"]
  }

  expect_failures = [var.recorder_allowed_event_origins]
}
run "include_log_tails_reaches_the_trigger" {
  command = plan

  variables {
    include_log_tails = false
  }

  assert {
    condition     = aws_lambda_function.trigger.environment[0].variables["INCLUDE_LOG_TAILS"] == "false"
    error_message = "include_log_tails = false must reach the trigger as INCLUDE_LOG_TAILS=false."
  }
}
