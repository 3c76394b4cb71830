# The latest deployments of one CodeDeploy deployment group, read from the
# status table through the trigger's `history` query: a data source, so it is
# read on every plan and refresh, and it creates nothing. The query reads the
# table only (no CodeDeploy call, no write), so it is safe to run that often.
#
# It sees every deployment the recorder saw, whoever started it: this
# Terraform, another stack, the console or a pipeline.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

provider "aws" {
  region = var.region
}

data "aws_lambda_invocation" "history" {
  function_name = var.trigger_function_name

  input = jsonencode({
    history = {
      applicationName     = var.application_name
      deploymentGroupName = var.deployment_group_name
      limit               = var.limit
    }
  })
}

locals {
  # {"deployments": [...newest first], "latest": <the first, or null>}
  history = jsondecode(data.aws_lambda_invocation.history.result)
  latest  = local.history.latest
}
