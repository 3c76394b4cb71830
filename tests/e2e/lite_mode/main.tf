# End-to-end configuration of the module's two modes: the trigger alone
# (status_tracking = false), then status tracking switched on in the same state, with a
# CodeDeploy application and group and one deployment through aws_lambda_invocation, against
# the local emulator (tests/e2e/emulator.py). tests/e2e/test_lite_mode.py copies this
# directory and examples/terraform side by side, so the relative module source holds there.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
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

variable "status_tracking" {
  description = "The module's status_tracking: false for the trigger alone."
  type        = bool
}

variable "description" {
  description = "Deployment description; the emulator reads simulate:fail in it."
  type        = string
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
    cloudwatchevents = var.endpoint
    cloudwatchlogs   = var.endpoint
    deploy           = var.endpoint
    dynamodb         = var.endpoint
    iam              = var.endpoint
    lambda           = var.endpoint
    sqs              = var.endpoint
    sts              = var.endpoint
  }
}

# --- CodeDeploy: an ECS blue/green application (moto does not check the ECS side) ---------

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name               = "${var.name_prefix}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

resource "aws_codedeploy_app" "app" {
  name             = "${var.name_prefix}-app"
  compute_platform = "ECS"
}

resource "aws_codedeploy_deployment_group" "group" {
  app_name               = aws_codedeploy_app.app.name
  deployment_group_name  = "${var.name_prefix}-group"
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = "CodeDeployDefault.ECSAllAtOnce"

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout = "CONTINUE_DEPLOYMENT"
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = 0
    }
  }

  ecs_service {
    cluster_name = "${var.name_prefix}-cluster"
    service_name = "${var.name_prefix}-service"
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/e2e/0123456789abcdef/0123456789abcdef"]
      }

      target_group {
        name = "${var.name_prefix}-blue"
      }

      target_group {
        name = "${var.name_prefix}-green"
      }
    }
  }
}

# --- the module: one block, one variable between the two modes ----------------------------

module "trigger" {
  source = "../../../examples/terraform"

  name_prefix                  = var.name_prefix
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = "x86_64"
  codedeploy_application_names = [aws_codedeploy_app.app.name]
  status_tracking              = var.status_tracking
  # Without the table the trigger polls at this interval; 15 s by default, shorter here so
  # that the test waits less.
  poll_interval_seconds = 2
}

# --- the user's deployment ---------------------------------------------------------------------

resource "aws_lambda_invocation" "deploy" {
  function_name = module.trigger.trigger_function_name

  input = jsonencode({
    applicationName     = aws_codedeploy_app.app.name
    deploymentGroupName = aws_codedeploy_deployment_group.group.deployment_group_name
    revision = {
      revisionType = "AppSpecContent"
      appSpecContent = {
        content = jsonencode({
          version = "0.0"
          Resources = [{
            TargetService = {
              Type = "AWS::ECS::Service"
              Properties = {
                TaskDefinition   = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"
                LoadBalancerInfo = { ContainerName = "app", ContainerPort = 80 }
              }
            }
          }]
        })
      }
    }
    description = var.description
    wait        = true
    autoRollbackConfiguration = {
      enabled = true
      events  = ["DEPLOYMENT_FAILURE"]
    }
  })

  # As the README recommends: the module complete (with status tracking, the rule in place)
  # before a deployment starts. Switching tracking on changes the module, and must still
  # leave this resource alone.
  depends_on = [module.trigger]
}

output "deployment_id" {
  value = jsondecode(aws_lambda_invocation.deploy.result).deploymentId
}

output "result" {
  value = jsondecode(aws_lambda_invocation.deploy.result)
}

output "trigger_function_name" {
  value = module.trigger.trigger_function_name
}

output "status_table_name" {
  value = module.trigger.status_table_name
}
