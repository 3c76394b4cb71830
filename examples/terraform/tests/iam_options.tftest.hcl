# The module's roles or the caller's, a permissions boundary, a role path, and role names that
# stay apart across the regions of one account. Plans with a mocked provider.

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
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}", minified_json = "{}" }
  }
  # ARNs the provider validates where they are used (the mock's own values are random).
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:codedeploy-trigger-recorder-dlq" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/codedeploy-trigger-deployment-state" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:codedeploy-trigger-recorder" }
  }
}

variables {
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

# The defaults name and place the roles as every earlier version did: upgrading replaces none.
run "defaults_keep_the_role_names" {
  command = plan

  assert {
    condition = [
      aws_iam_role.trigger[0].name, aws_iam_role.recorder[0].name,
      aws_iam_role.trigger[0].path, aws_iam_role.recorder[0].path,
      ] == [
      "codedeploy-trigger-trigger", "codedeploy-trigger-recorder", "/", "/",
    ]
    error_message = "the default role names and path must stay <name_prefix>-trigger, <name_prefix>-recorder and /"
  }

  assert {
    condition     = aws_iam_role.trigger[0].permissions_boundary == null && aws_iam_role.recorder[0].permissions_boundary == null
    error_message = "no permissions boundary unless one is given"
  }
}

# Applied (against the mock): the policy documents name resources created in the same run,
# so their JSON is known only after apply.
run "own_roles" {
  command = apply

  variables {
    trigger_role_arn  = "arn:aws:iam::123456789012:role/deploy/ops-trigger"
    recorder_role_arn = "arn:aws:iam::123456789012:role/ops-recorder"
  }

  assert {
    condition = [
      length(aws_iam_role.trigger), length(aws_iam_role_policy.trigger),
      length(aws_iam_role.recorder), length(aws_iam_role_policy.recorder),
    ] == [0, 0, 0, 0]
    error_message = "with the caller's roles the module must create no role and no role policy"
  }

  assert {
    condition     = aws_lambda_function.trigger.role == "arn:aws:iam::123456789012:role/deploy/ops-trigger" && aws_lambda_function.recorder[0].role == "arn:aws:iam::123456789012:role/ops-recorder"
    error_message = "the functions must run with the roles given"
  }

  assert {
    condition     = output.trigger_role_name == "ops-trigger" && output.recorder_role_name == "ops-recorder" && output.trigger_role_arn == var.trigger_role_arn
    error_message = "the role outputs must name the roles given (a path is not part of the name)"
  }

  # The policies the caller must attach: the documents the module would attach.
  assert {
    condition     = output.trigger_policy_json == data.aws_iam_policy_document.trigger.json && output.recorder_policy_json == data.aws_iam_policy_document.recorder[0].json && output.lambda_assume_role_policy_json == data.aws_iam_policy_document.lambda_assume.json
    error_message = "trigger_policy_json, recorder_policy_json and lambda_assume_role_policy_json must be the module's own documents"
  }
}

run "own_trigger_role_without_tracking" {
  command = plan

  variables {
    status_tracking  = false
    trigger_role_arn = "arn:aws:iam::123456789012:role/ops-trigger"
  }

  assert {
    condition     = length(aws_iam_role.trigger) == 0 && length(aws_iam_role.recorder) == 0 && output.recorder_role_arn == null && output.recorder_policy_json == null
    error_message = "the trigger alone with its own role: the module creates no role at all"
  }
}

run "boundary_and_path" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::123456789012:policy/DeveloperBoundary"
    role_path                = "/deploy/codedeploy-trigger/"
  }

  assert {
    condition = alltrue([
      for role in [aws_iam_role.trigger[0], aws_iam_role.recorder[0]] :
      role.permissions_boundary == "arn:aws:iam::123456789012:policy/DeveloperBoundary" && role.path == "/deploy/codedeploy-trigger/"
    ])
    error_message = "both roles must carry the permissions boundary and the path"
  }
}

run "role_names_include_the_region" {
  command = plan

  variables {
    role_names_include_region = true
  }

  assert {
    condition     = aws_iam_role.trigger[0].name == "codedeploy-trigger-trigger-eu-west-1" && aws_iam_role.recorder[0].name == "codedeploy-trigger-recorder-eu-west-1"
    error_message = "with role_names_include_region the role names end in the region"
  }

  # Everything else the module names is regional: unchanged.
  assert {
    condition     = aws_lambda_function.trigger.function_name == "codedeploy-trigger-trigger" && aws_dynamodb_table.status[0].name == "codedeploy-trigger-status"
    error_message = "only the (global) IAM role names take the region"
  }
}

# The longest name_prefix (40) with one of the longest region names (14) is IAM's limit, 64.
run "the_longest_names_fit" {
  command = plan

  variables {
    name_prefix               = "a-forty-character-name-prefix-0123456789"
    role_names_include_region = true
  }

  override_data {
    target = data.aws_region.current
    values = { id = "ap-southeast-5", name = "ap-southeast-5" }
  }

  assert {
    condition     = length(aws_iam_role.recorder[0].name) == 64
    error_message = "name_prefix (40) + -recorder- + ap-southeast-5 is 64 characters, and must be accepted"
  }
}

run "a_role_arn_is_checked" {
  command = plan

  variables {
    trigger_role_arn = "ops-trigger"
  }

  expect_failures = [var.trigger_role_arn]
}

run "a_recorder_role_arn_is_checked" {
  command = plan

  variables {
    recorder_role_arn = "arn:aws:iam::123456789012:policy/ops"
  }

  expect_failures = [var.recorder_role_arn]
}

run "a_boundary_is_a_policy_arn" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.permissions_boundary_arn]
}

run "a_role_path_begins_and_ends_with_a_slash" {
  command = plan

  variables {
    role_path = "deploy"
  }

  expect_failures = [var.role_path]
}
