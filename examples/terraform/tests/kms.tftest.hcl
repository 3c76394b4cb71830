# kms_key_arn: one customer managed key for the status table, both log groups, the dead-letter
# queue and both functions' environment, with exactly the grants each role needs on it; without
# it nothing changes. Plans with a mocked provider.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { id = "eu-west-1", name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_service_principal" {
    defaults = { name = "events.amazonaws.com" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}", minified_json = "{}" }
  }
}

# The mock echoes what it is told: tests/partition.tftest.hcl checks the real provider's
# principal in aws-cn.
override_data {
  target = data.aws_service_principal.logs
  values = { id = "logs.eu-west-1.amazonaws.com", name = "logs.amazonaws.com" }
}

variables {
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

run "without_a_key_nothing_changes" {
  command = plan

  assert {
    condition = aws_dynamodb_table.status[0].server_side_encryption[0].enabled && aws_sqs_queue.dlq[0].sqs_managed_sse_enabled && alltrue([
      for key in [
        aws_cloudwatch_log_group.trigger.kms_key_id,
        aws_cloudwatch_log_group.recorder[0].kms_key_id,
        aws_sqs_queue.dlq[0].kms_master_key_id,
        aws_lambda_function.trigger.kms_key_arn,
        aws_lambda_function.recorder[0].kms_key_arn,
      ] : key == null
    ])
    # The table's kms_key_arn is computed (the AWS managed key's ARN) when none is given.
    error_message = "without kms_key_arn: the table's AWS managed key, SSE-SQS, and no key on the log groups or the functions, as before"
  }

  assert {
    condition = !anytrue(flatten([
      for document in [data.aws_iam_policy_document.trigger, data.aws_iam_policy_document.recorder[0]] : [
        for s in document.statement : [for a in s.actions : startswith(a, "kms:")]
      ]
    ]))
    error_message = "without kms_key_arn neither role may grant a KMS action"
  }
}

run "a_key_encrypts_the_table_logs_queue_and_environment" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [
      aws_dynamodb_table.status[0].server_side_encryption[0].kms_key_arn,
      aws_cloudwatch_log_group.trigger.kms_key_id,
      aws_cloudwatch_log_group.recorder[0].kms_key_id,
      aws_sqs_queue.dlq[0].kms_master_key_id,
      aws_lambda_function.trigger.kms_key_arn,
      aws_lambda_function.recorder[0].kms_key_arn,
    ] == [for _ in range(6) : var.kms_key_arn]
    error_message = "kms_key_arn must encrypt the table, both log groups, the queue and both functions' environment"
  }

  assert {
    condition     = aws_dynamodb_table.status[0].server_side_encryption[0].enabled
    error_message = "the table's server-side encryption must stay enabled"
  }

  # Exactly these KMS actions, on the key alone (shared/permissions.py, make iam-check).
  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.actions, s.resources]
      if anytrue([for a in s.actions : startswith(a, "kms:")])
    ] == [[toset(["kms:Decrypt"]), toset([var.kms_key_arn])]]
    error_message = "the trigger's role must grant kms:Decrypt on the key, and no other KMS action"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.recorder[0].statement : [s.actions, s.resources]
      if anytrue([for a in s.actions : startswith(a, "kms:")])
    ] == [[toset(["kms:Decrypt", "kms:GenerateDataKey"]), toset([var.kms_key_arn])]]
    error_message = "the recorder's role must grant kms:Decrypt and kms:GenerateDataKey on the key, and no other KMS action"
  }

  # The key policy statements: CloudWatch Logs' regional principal for both log groups,
  # EventBridge for the rule's dead letters.
  assert {
    condition = [for s in jsondecode(output.kms_key_policy_statements_json) : [s.Principal.Service, s.Condition]] == [
      [
        "logs.eu-west-1.amazonaws.com",
        { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = [
          "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/codedeploy-trigger-trigger",
          "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/codedeploy-trigger-recorder",
        ] } },
      ],
      [
        "events.amazonaws.com",
        { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/codedeploy-trigger-deployment-state" } },
      ],
    ]
    error_message = "the key policy statements must allow CloudWatch Logs for both log groups and EventBridge for the rule"
  }
}

# The trigger alone: still its log group and environment, and kms:Decrypt for the environment.
run "a_key_without_status_tracking" {
  command = plan

  variables {
    status_tracking = false
    kms_key_arn     = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
  }

  assert {
    condition     = aws_cloudwatch_log_group.trigger.kms_key_id == var.kms_key_arn && aws_lambda_function.trigger.kms_key_arn == var.kms_key_arn
    error_message = "without status tracking the key must still encrypt the trigger's log group and environment"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : [s.actions, s.resources]
      if anytrue([for a in s.actions : startswith(a, "kms:")])
    ] == [[toset(["kms:Decrypt"]), toset([var.kms_key_arn])]]
    error_message = "the trigger's role must grant kms:Decrypt on the key"
  }

  assert {
    condition     = [for s in jsondecode(output.kms_key_policy_statements_json) : s.Sid] == ["CloudWatchLogsCodeDeployTrigger"]
    error_message = "without status tracking there is no dead-letter queue: the key policy needs the CloudWatch Logs statement only"
  }
}

run "an_alias_arn_is_refused" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/deploy"
  }

  expect_failures = [var.kms_key_arn]
}

run "a_key_id_alone_is_refused" {
  command = plan

  variables {
    kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [var.kms_key_arn]
}

run "another_services_arn_is_refused" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:sqs:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [var.kms_key_arn]
}

# Logs, DynamoDB and SQS take only a key of their own region.
run "a_key_in_another_region_is_refused" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [aws_cloudwatch_log_group.trigger]
}
