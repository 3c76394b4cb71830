# status_tracking = false (the trigger alone), then switched on, with a mocked aws provider.
#
# What a mocked provider can prove: which resources the module declares in each mode (counts,
# addresses), what reaches the trigger's environment and policy, and that the trigger's
# resources keep their addresses and their identifying arguments from one mode to the other,
# so that the second run plans an update of the objects in state, not new ones (a resource
# planned for creation has an unknown ARN, and the ARN assertions below would fail).
# What it cannot prove: the mock plans from the configuration alone; it knows nothing of the
# real provider's ForceNew arguments or CustomizeDiff, so it never plans a replacement. That
# the real provider updates the trigger in place, and leaves the caller's
# aws_lambda_invocation alone, is proved by a real apply and `terraform plan -json` against
# the local emulator (tests/e2e/test_lite_mode.py).

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
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}", minified_json = "{}" }
  }
  # The mock's computed values are random strings: the function's role must be an ARN (the
  # provider validates it), and a role's id is its name, as in AWS.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lite-trigger", id = "lite-trigger" }
  }
  # Known at plan time, so that the policy statements naming the new table can be compared.
  mock_resource "aws_dynamodb_table" {
    defaults        = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/lite-status" }
    override_during = plan
  }
}

variables {
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
  name_prefix                  = "lite"
}

# Applied (against the mock), so that the next run plans from this state.
run "trigger_alone" {
  command = apply

  variables {
    status_tracking = false
  }

  assert {
    condition = [
      length(aws_dynamodb_table.status),
      length(aws_lambda_function.recorder),
      length(aws_iam_role.recorder),
      length(aws_iam_role_policy.recorder),
      length(aws_cloudwatch_log_group.recorder),
      length(aws_cloudwatch_event_rule.codedeploy),
      length(aws_cloudwatch_event_target.recorder),
      length(aws_lambda_permission.events),
      length(aws_sqs_queue.dlq),
      length(aws_sqs_queue_policy.dlq),
    ] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    error_message = "without status_tracking the module must create no table, recorder, role or log group of the recorder, rule, target, permission or queue"
  }

  assert {
    condition     = aws_lambda_function.trigger.function_name == "lite-trigger" && aws_iam_role.trigger[0].name == "lite-trigger" && aws_cloudwatch_log_group.trigger.name == "/aws/lambda/lite-trigger" && aws_iam_role_policy.trigger[0].name == "lite-trigger-permissions"
    error_message = "the trigger's function, role, policy and log group are created in every mode"
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.trigger.environment[0].variables), "STATUS_TABLE_NAME")
    error_message = "without status_tracking the trigger must run without STATUS_TABLE_NAME (it then polls GetDeployment)"
  }

  # No DynamoDB statement at all: the policy shrinks to what the trigger calls in this mode.
  assert {
    condition = !anytrue(flatten([
      for s in data.aws_iam_policy_document.trigger.statement : [for a in s.actions : startswith(a, "dynamodb:")]
    ]))
    error_message = "without status_tracking the trigger's policy must grant no DynamoDB action"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : s.sid
      ] == [
      "WriteOwnLogs", "Deploy", "ControlAndReadTargets", "RegisterRevision", "ReadDeploymentConfig",
      "ReadGroupDeployments", "ReadDeploymentGroup",
    ]
    error_message = "without status_tracking the trigger's policy is its logs and its CodeDeploy statements only"
  }

  assert {
    condition     = output.status_table_name == null && output.recorder_function_name == null && output.dead_letter_queue_url == null && output.event_rule_arn == null && output.status_tracking == false
    error_message = "the tracking outputs are null without status_tracking"
  }
}

# The same state, now with status tracking: the rest is added, the trigger is kept.
run "switched_on" {
  command = plan

  variables {
    status_tracking = true
  }

  # Same addresses, objects from the state: a planned creation would have an unknown ARN.
  assert {
    condition     = aws_lambda_function.trigger.arn == run.trigger_alone.trigger_function_arn
    error_message = "switching status_tracking on must keep the trigger function (same address, same object)"
  }

  assert {
    condition     = aws_iam_role.trigger[0].arn == run.trigger_alone.trigger_role_arn && aws_cloudwatch_log_group.trigger.arn != ""
    error_message = "switching status_tracking on must keep the trigger's role and log group"
  }

  # The arguments the real provider replaces on (function_name; a role's or log group's
  # name; a role policy's name and role) are those of the first run.
  assert {
    condition     = aws_lambda_function.trigger.function_name == "lite-trigger" && aws_iam_role.trigger[0].name == "lite-trigger" && aws_cloudwatch_log_group.trigger.name == "/aws/lambda/lite-trigger" && aws_iam_role_policy.trigger[0].name == "lite-trigger-permissions" && aws_iam_role_policy.trigger[0].role == run.trigger_alone.trigger_role_name
    error_message = "switching status_tracking on must not change an argument that replaces the trigger's function, role, policy or log group"
  }

  # What does change: one key of the environment, and the policy.
  assert {
    condition     = aws_lambda_function.trigger.environment[0].variables["STATUS_TABLE_NAME"] == "lite-status"
    error_message = "with status_tracking the trigger must get STATUS_TABLE_NAME"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.actions, s.resources]
      if contains(["StatusTable", "QueryHistory"], s.sid)
      ] == [
      [toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]), toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/lite-status"])],
      [toset(["dynamodb:Query"]), toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/lite-status/index/byGroup"])],
    ]
    error_message = "with status_tracking the trigger's policy grants the table's item actions on the table and Query on its byGroup index"
  }

  assert {
    condition = [
      length(aws_dynamodb_table.status),
      length(aws_lambda_function.recorder),
      length(aws_iam_role.recorder),
      length(aws_iam_role_policy.recorder),
      length(aws_cloudwatch_log_group.recorder),
      length(aws_cloudwatch_event_rule.codedeploy),
      length(aws_cloudwatch_event_target.recorder),
      length(aws_lambda_permission.events),
      length(aws_sqs_queue.dlq),
      length(aws_sqs_queue_policy.dlq),
    ] == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    error_message = "switching status_tracking on must add the table, the recorder and its role and log group, the rule, its target and permission, and the queue with its policy"
  }
}
