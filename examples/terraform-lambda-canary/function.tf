data "aws_partition" "current" {}

data "aws_service_principal" "lambda" {
  service_name = "lambda"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.lambda.name]
    }
  }
}

locals {
  # CodeDeploy's managed policy for Lambda (AWSCodeDeployRoleForLambda) may invoke only
  # functions whose name starts with CodeDeployHook_.
  hooks = {
    BeforeAllowTraffic = {
      name    = "CodeDeployHook_${var.name}-before-allow-traffic"
      handler = "hooks.before_allow_traffic"
    }
    AfterAllowTraffic = {
      name    = "CodeDeployHook_${var.name}-after-allow-traffic"
      handler = "hooks.after_allow_traffic"
    }
  }
}

# --- the deployed function -------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_158:Example function logs (greetings); CloudWatch Logs encrypts them at rest by default.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default); raise it where a compliance rule asks for a year.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "app" {
  name               = "${var.name}-app"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "app" {
  name = "logs"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.app.arn}:*"
      },
    ]
  })
}

# publish = true: every change of the code or the configuration publishes a new version, the
# TargetVersion of the next deployment (deploy.tf).
resource "aws_lambda_function" "app" {
  #checkov:skip=CKV_AWS_117:The example function calls nothing; a VPC would add NAT or endpoints and nothing to protect.
  #checkov:skip=CKV_AWS_116:Invoked synchronously through the alias; a DLQ only serves asynchronous calls.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would take capacity from the account pool (new accounts have too little to reserve).
  #checkov:skip=CKV_AWS_173:The environment holds a greeting template, no secrets; Lambda encrypts it at rest with an AWS managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built and checksummed locally (source_code_hash).
  #checkov:skip=CKV_AWS_50:X-Ray tracing would add a permission and a cost to a demonstration function.
  function_name    = var.name
  role             = aws_iam_role.app.arn
  runtime          = var.runtime
  handler          = "app.handler"
  filename         = var.function_zip_path
  source_code_hash = filebase64sha256(var.function_zip_path)
  publish          = true

  environment {
    variables = {
      MESSAGE_TEMPLATE = var.message_template
    }
  }

  depends_on = [aws_cloudwatch_log_group.app, aws_iam_role_policy.app]
}

# Callers use the alias. CodeDeploy moves it (and its routing weights, during a canary or linear
# shift) after the first apply: Terraform must not move it back.
resource "aws_lambda_alias" "live" {
  name             = var.alias_name
  function_name    = aws_lambda_function.app.function_name
  function_version = aws_lambda_function.app.version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

# --- validation hooks --------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "hook" {
  #checkov:skip=CKV_AWS_158:The hooks log what the new version answered to a test event; CloudWatch Logs encrypts at rest by default.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default); raise it where a compliance rule asks for a year.
  for_each          = local.hooks
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "hook" {
  name               = "${var.name}-hook"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

# A hook invokes the new version (or the alias), reports to CodeDeploy, and logs. Nothing else.
resource "aws_iam_role_policy" "hook" {
  name = "validate-and-report"
  role = aws_iam_role.hook.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = "${aws_lambda_function.app.arn}:*"
      },
      {
        # The Service Authorization Reference lists no resource type for this action: it is
        # evaluated against "*" only (a deployment group ARN here would deny it).
        Effect   = "Allow"
        Action   = "codedeploy:PutLifecycleEventHookExecutionStatus"
        Resource = "*"
      },
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = [for group in aws_cloudwatch_log_group.hook : "${group.arn}:*"]
      },
    ]
  })
}

resource "aws_lambda_function" "hook" {
  #checkov:skip=CKV_AWS_117:The hooks call Lambda and CodeDeploy APIs only; a VPC would add NAT or endpoints and nothing to protect.
  #checkov:skip=CKV_AWS_116:CodeDeploy invokes the hooks and waits for their report; a DLQ would not reach it.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would take capacity from the account pool; a hook runs once per deployment.
  #checkov:skip=CKV_AWS_173:The environment holds a function name, an alias and a version, no secrets; Lambda encrypts it at rest with an AWS managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built and checksummed locally (source_code_hash).
  #checkov:skip=CKV_AWS_50:X-Ray tracing would add a permission and a cost to a validation hook.
  for_each = local.hooks

  function_name    = each.value.name
  role             = aws_iam_role.hook.arn
  runtime          = var.runtime
  handler          = each.value.handler
  filename         = var.function_zip_path
  source_code_hash = filebase64sha256(var.function_zip_path)
  timeout          = 60

  environment {
    variables = {
      FUNCTION_NAME = aws_lambda_function.app.function_name
      ALIAS_NAME    = aws_lambda_alias.live.name
      # The version being deployed: the hook of each deployment tests the version it shifts to.
      TARGET_VERSION = aws_lambda_function.app.version
    }
  }

  depends_on = [aws_cloudwatch_log_group.hook, aws_iam_role_policy.hook]
}
