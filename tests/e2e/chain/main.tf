# End-to-end configuration of the chain module (examples/terraform/modules/deployment), kept
# small on purpose: the trigger function (the real release zip) with a short timeout, so that
# one deployment outlasts several links in seconds, a CodeDeploy application and group, and
# the chain. The examples/terraform module is applied by the other e2e tests; applying it
# here again would cost about 95 s (its SQS queue policy alone waits 25 s) plus a slow
# refresh on every later apply. Without the status table the function polls GetDeployment
# every POLL_INTERVAL_SECONDS, which the chain does not care about.
# The tests copy this directory and examples/terraform side by side (tests/e2e/harness.py).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60" # data "aws_service_principal"
    }
  }
}

variable "endpoint" {
  description = "URL of the local AWS emulator (moto server)."
  type        = string
}

variable "lambda_zip_path" {
  description = "The release zip (package/codedeploy-trigger_<version>_linux_amd64.zip)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name, unique per test (the emulator is shared)."
  type        = string
}

variable "description" {
  description = "Deployment description: simulate:seconds=N, simulate:fail, simulate:ready steer the emulator."
  type        = string
}

variable "wait_until" {
  description = "The chain's wait_until."
  type        = string
  default     = "Succeeded"
}

variable "trigger_timeout" {
  description = "Timeout (s) of the trigger function: one link lasts about this long."
  type        = number
  default     = 15
}

variable "deadline_margin_seconds" {
  # At least 5: the last look at the deadline (onDeadline = "return") needs the shortest
  # CodeDeploy call's worst case (3 s, shared/adapters/clients.py) plus FINAL_RESERVE_SECONDS (2 s).
  description = "DEADLINE_MARGIN_SECONDS of the trigger function."
  type        = number
  default     = 5
}

variable "max_wait_minutes" {
  description = "The chain's max_wait_minutes: 0.6 * 60 / (15 - 5) = 3.6, so 4 waiting links."
  type        = number
  default     = 0.6
}

provider "aws" {
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    deploy = var.endpoint
    iam    = var.endpoint
    lambda = var.endpoint
    sts    = var.endpoint
  }
}

# Service principals differ by partition (CodeDeploy's is codedeploy.amazonaws.com.cn in aws-cn).
data "aws_service_principal" "service" {
  for_each     = toset(["codedeploy", "lambda"])
  service_name = each.key
}

# The emulator's CodeDeploy only needs an application and a group to deploy to.
resource "aws_iam_role" "codedeploy" {
  name               = "${var.name_prefix}-codedeploy"
  assume_role_policy = jsonencode(local.assume_role["codedeploy"])
}

resource "aws_codedeploy_app" "app" {
  name             = "${var.name_prefix}-app"
  compute_platform = "Server"
}

resource "aws_codedeploy_deployment_group" "group" {
  app_name              = aws_codedeploy_app.app.name
  deployment_group_name = "${var.name_prefix}-group"
  service_role_arn      = aws_iam_role.codedeploy.arn

  # moto keeps no deployment style for a Server group, so every plan would update it, and
  # moto has no UpdateDeploymentGroup: the provider would retry it for minutes. The group
  # never changes here.
  lifecycle {
    ignore_changes = all
  }
}

locals {
  assume_role = {
    for service, principal in data.aws_service_principal.service : service => {
      Version = "2012-10-17"
      Statement = [{
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = principal.name }
      }]
    }
  }
}

# The emulator does not enforce IAM: the role only has to exist.
resource "aws_iam_role" "trigger" {
  name               = "${var.name_prefix}-trigger"
  assume_role_policy = jsonencode(local.assume_role["lambda"])
}

resource "aws_lambda_function" "trigger" {
  function_name    = "${var.name_prefix}-trigger"
  role             = aws_iam_role.trigger.arn
  runtime          = "python3.13"
  handler          = "handlers.trigger.lambda_handler"
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  timeout          = var.trigger_timeout

  environment {
    variables = {
      POLL_INTERVAL_SECONDS   = "1"
      DEADLINE_MARGIN_SECONDS = tostring(var.deadline_margin_seconds)
    }
  }
}

module "deployment" {
  source = "../../../examples/terraform/modules/deployment"

  function_name = aws_lambda_function.trigger.function_name
  # With examples/terraform these are module.trigger.trigger_timeout_seconds and
  # module.trigger.deadline_margin_seconds.
  function_timeout_seconds = var.trigger_timeout
  deadline_margin_seconds  = var.deadline_margin_seconds
  max_wait_minutes         = var.max_wait_minutes
  wait_until               = var.wait_until

  deployment = {
    applicationName     = aws_codedeploy_app.app.name
    deploymentGroupName = aws_codedeploy_deployment_group.group.deployment_group_name
    revision = {
      revisionType = "S3"
      s3Location   = { bucket = "e2e-artifacts", key = "app.zip", bundleType = "zip" }
    }
    description = var.description
  }
}

output "result" {
  value = module.deployment.result
}

output "deployment_id" {
  value = module.deployment.deployment_id
}

output "status" {
  value = module.deployment.status
}

output "links" {
  value = module.deployment.links
}

output "link_results" {
  value = module.deployment.link_results
}
