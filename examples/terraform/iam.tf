# One role per function, each with one inline policy that names its own
# resources. No AWSLambdaBasicExecutionRole: it allows logs:* on every group.

# Service principals differ by partition (CodeDeploy's is codedeploy.amazonaws.com.cn in
# aws-cn): the provider knows them (data "aws_service_principal", provider >= 5.60).
data "aws_service_principal" "lambda" {
  service_name = "lambda"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    # No aws:SourceAccount condition: a role cannot be passed to a function
    # of another account, and Lambda's documented trust policy has none.
    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.lambda.name]
    }
  }
}

# --- trigger -----------------------------------------------------------------

# Not created when the caller brings the role (trigger_role_arn): the policy document is still
# rendered, for the output trigger_policy_json.
resource "aws_iam_role" "trigger" {
  count = local.create_trigger_role ? 1 : 0

  name                 = local.trigger_role_name
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary_arn
  description          = "Execution role of the ${local.trigger_name} Lambda function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(local.trigger_role_name) <= 64
      error_message = "The trigger's role name ${local.trigger_role_name} is longer than IAM's 64 characters: shorten name_prefix."
    }
  }
}

data "aws_iam_policy_document" "trigger" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trigger.arn}:*"]
  }

  statement {
    sid = "Deploy"
    actions = [
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
    ]
    resources = local.codedeploy_deployment_group_arns
  }

  # These CodeDeploy actions have no resource type: AWS evaluates them only against
  # "*", and a grant on a deployment-group ARN never matches, so StopDeployment (stop
  # requests, supersede, stopOnTimeout), ContinueDeployment (continue requests) and the
  # failure explanation's target reads would be denied (Service Authorization Reference,
  # "Actions defined by AWS CodeDeploy": no resource type for StopDeployment,
  # ContinueDeployment, ListDeploymentTargets, BatchGetDeploymentTargets; AWS confirms it
  # for StopDeployment in awsdocs/aws-codedeploy-user-guide issue 18). None has a
  # condition key either. The trigger stops and continues only deployments it created
  # (its status table and GetDeployment's creator say so); shared/permissions.py lists
  # why each action is here.
  statement {
    sid = "ControlAndReadTargets"
    actions = [
      "codedeploy:StopDeployment",
      "codedeploy:ContinueDeployment",
      "codedeploy:ListDeploymentTargets",
      "codedeploy:BatchGetDeploymentTargets",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "RegisterRevision"
    actions   = ["codedeploy:RegisterApplicationRevision"]
    resources = local.codedeploy_application_arns
  }

  # The group's clock reads the deployment configuration (traffic-routing steps and
  # intervals), and CreateDeployment reads it too (the group's or deploymentConfigName).
  # Resource type deploymentconfig (Service Authorization Reference:
  # arn:${Partition}:codedeploy:${Region}:${Account}:deploymentconfig:${DeploymentConfigurationName}).
  # The predefined CodeDeployDefault.* configurations have no account of their own: AWS
  # evaluates them under the caller's account and region
  # (...:deploymentconfig:CodeDeployDefault.AllAtOnce), so "*" after the prefix covers
  # them as well as the account's own configurations.
  statement {
    sid       = "ReadDeploymentConfig"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["${local.codedeploy_arn_prefix}:deploymentconfig:*"]
  }

  # Replays and the recovery of an ambiguous CreateDeployment look at the
  # group's recent deployments. Both actions are authorized on the deployment
  # group (Service Authorization Reference, "Actions defined by AWS
  # CodeDeploy": ListDeployments and BatchGetDeployments, deploymentgroup*).
  statement {
    sid = "ReadGroupDeployments"
    actions = [
      "codedeploy:ListDeployments",
      "codedeploy:BatchGetDeployments",
    ]
    resources = local.codedeploy_deployment_group_arns
  }

  # The failure explanation: the group's alarms (of an ALARM_ACTIVE stop). The
  # group's clock reads the deployment's own waits with GetDeployment instead.
  # Resource type: deploymentgroup (Service Authorization Reference).
  statement {
    sid       = "ReadDeploymentGroup"
    actions   = ["codedeploy:GetDeploymentGroup"]
    resources = local.codedeploy_deployment_group_arns
  }

  # ECS diagnostics: the service's events and its stopped tasks' reasons, only in
  # the clusters named. All three actions take the ecs:cluster condition key
  # (Service Authorization Reference, Amazon ECS), which scopes "*" to the clusters
  # (ListTasks has no ARN to name: its resource type is the container instance).
  dynamic "statement" {
    for_each = length(var.ecs_diagnostics_cluster_arns) > 0 ? [1] : []

    content {
      sid       = "ReadEcsDiagnostics"
      actions   = ["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"]
      resources = ["*"]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = var.ecs_diagnostics_cluster_arns
      }
    }
  }

  # No iam:PassRole: CreateDeployment takes no role (botocore's
  # CreateDeploymentInput has none); CodeDeploy assumes the deployment group's
  # service role itself, and that role passes the ECS task roles.

  # Deployment status (written by the recorder) and idempotency records: only with
  # status_tracking (for_each over the table: none without it). Without a table the
  # trigger polls GetDeployment and calls no DynamoDB action at all.
  dynamic "statement" {
    for_each = aws_dynamodb_table.status

    content {
      sid = "StatusTable"
      actions = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
      ]
      resources = [statement.value.arn]
    }
  }

  # The `history` query: one Query on the group index, nothing else. An index is
  # authorized by its own ARN (<table ARN>/index/<name>), not the table's.
  dynamic "statement" {
    for_each = aws_dynamodb_table.status

    content {
      sid       = "QueryHistory"
      actions   = ["dynamodb:Query"]
      resources = ["${statement.value.arn}/index/byGroup"]
    }
  }

  dynamic "statement" {
    for_each = local.tracing_active ? [1] : []

    content {
      sid       = "XRayTracing"
      actions   = local.xray_write_actions
      resources = ["*"]
    }
  }

  # kms_key_arn only, on that key alone (KMS actions have the "key" resource type: Service
  # Authorization Reference, AWS KMS). kms:Decrypt serves two readers:
  # - Lambda decrypts the environment with the execution role. Lambda also creates a grant
  #   for the role when the function is created, but that grant names the role's unique id and
  #   stops working when the role is recreated under the same name; the role's own grant
  #   keeps working (AWS re:Post knowledge center, "lambda-kmsaccessdeniedexception-errors";
  #   Lambda developer guide, "Securing Lambda environment variables").
  # - DynamoDB decrypts the status table's key for the trigger's reads and writes
  #   (dynamodb.tf). Table writes use that table key: no kms:GenerateDataKey or kms:Encrypt.
  # CloudWatch Logs encrypts the log group as its own service principal: nothing here.
  dynamic "statement" {
    for_each = local.kms_key_arns

    content {
      sid       = "UseModuleKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "trigger" {
  count = local.create_trigger_role ? 1 : 0

  name   = "${local.trigger_name}-permissions"
  role   = aws_iam_role.trigger[0].id
  policy = data.aws_iam_policy_document.trigger.json
}

# --- recorder (status_tracking only) ------------------------------------------

resource "aws_iam_role" "recorder" {
  count = local.create_recorder_role ? 1 : 0

  name                 = local.recorder_role_name
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary_arn
  description          = "Execution role of the ${local.recorder_name} Lambda function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(local.recorder_role_name) <= 64
      error_message = "The recorder's role name ${local.recorder_role_name} is longer than IAM's 64 characters: shorten name_prefix."
    }
  }
}

data "aws_iam_policy_document" "recorder" {
  count = local.tracking_count

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.recorder[0].arn}:*"]
  }

  statement {
    sid       = "RecordStatus"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.status[0].arn]
  }

  # The function's own dead-letter queue (asynchronous invocation failures).
  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq[0].arn]
  }

  dynamic "statement" {
    for_each = local.tracing_active ? [1] : []

    content {
      sid       = "XRayTracing"
      actions   = local.xray_write_actions
      resources = ["*"]
    }
  }

  # kms_key_arn only, on that key alone. kms:Decrypt: the environment and the status table,
  # as for the trigger. kms:GenerateDataKey with kms:Decrypt: Lambda sends to the encrypted
  # dead-letter queue with this role, and a producer of an SSE-KMS queue needs both (Amazon
  # SQS developer guide, "Amazon SQS Key management", producer permissions: kms:GenerateDataKey
  # and kms:Decrypt).
  dynamic "statement" {
    for_each = local.kms_key_arns

    content {
      sid       = "UseModuleKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "recorder" {
  count = local.create_recorder_role ? 1 : 0

  name   = "${local.recorder_name}-permissions"
  role   = aws_iam_role.recorder[0].id
  policy = data.aws_iam_policy_document.recorder[0].json
}
