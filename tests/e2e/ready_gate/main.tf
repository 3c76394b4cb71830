# End-to-end configuration of the chain module's Ready gate (examples/terraform/modules/deployment,
# ready_gate = true) against the local emulator: an ECS blue/green group that holds a deployment
# at Ready (deployment_ready_option STOP_DEPLOYMENT, as the gate needs) and waits before it
# terminates the original (termination wait, for waitUntil TrafficShifted), the trigger module
# (examples/terraform with its status table: continue, stop and supersede act only on a
# deployment the table says this function created; the real release zip), the chain, a smoke
# test between Ready and the continue link (terraform_data with local-exec: check_command), and
# an optional stop link.
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
  description = "The chain's wait_until (after the gate with ready_gate)."
  type        = string
  default     = "Succeeded"
}

variable "termination_wait_minutes" {
  description = "The group's termination_wait_time_in_minutes: 1 (3 s in the e2e emulator) for a gate that waits until Succeeded; long for TrafficShifted, to show the apply returning before it ends."
  type        = number
  default     = 1
}

variable "ready_gate" {
  description = "The chain's ready_gate."
  type        = bool
  default     = true
}

variable "check_command" {
  description = "The smoke test at Ready (local-exec): \"true\" passes, \"false\" fails."
  type        = string
  default     = "true"
}

variable "on_active_deployment" {
  description = "onActiveDeployment of the deployment request: fail, wait or supersede."
  type        = string
  default     = "fail"
}

variable "stop_deployment_id" {
  description = "A deployment to stop with rollback (the stop link); null: no stop link."
  type        = string
  default     = null
}

variable "trigger_timeout" {
  description = "Timeout (s) of the trigger function: one link lasts about this long."
  type        = number
  default     = 25
}

variable "deadline_margin_seconds" {
  # At least 5: the last look at the deadline (onDeadline = "return") needs the shortest
  # CodeDeploy call's worst case (3 s, shared/adapters/clients.py) plus FINAL_RESERVE_SECONDS (2 s).
  description = "DEADLINE_MARGIN_SECONDS of the trigger function."
  type        = number
  default     = 5
}

variable "max_wait_minutes" {
  description = "The chain's max_wait_minutes (each half of the gate): 1.2 * 60 / (25 - 5) = 3.6, so 4 links."
  type        = number
  default     = 1.2
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

data "aws_service_principal" "codedeploy" {
  service_name = "codedeploy"
}

resource "aws_iam_role" "codedeploy" {
  name = "${var.name_prefix}-codedeploy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = data.aws_service_principal.codedeploy.name }
    }]
  })
}

# --- CodeDeploy: ECS blue/green (moto does not check the ECS side) ---------------------------

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
    # What the gate needs: Ready is held until ContinueDeployment, and stopped (rolled back)
    # when nobody continues within the wait. 120 minutes of the group's clock, 6 minutes in the
    # e2e emulator (E2E_MINUTE_SECONDS, 3 s by default: tests/e2e/harness.py): longer than any
    # scenario, even on a loaded machine, so what ends Ready here is the chain or a stop.
    deployment_ready_option {
      action_on_timeout    = "STOP_DEPLOYMENT"
      wait_time_in_minutes = 120
    }

    # The termination wait: Succeeded comes after it, TrafficShifted before it.
    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]
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

      test_traffic_route {
        listener_arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/e2e/0123456789abcdef/fedcba9876543210"]
      }

      target_group {
        name = "${var.name_prefix}-blue"
      }

      target_group {
        name = "${var.name_prefix}-green"
      }
    }
  }

  lifecycle {
    ignore_changes = all
  }
}

# --- the trigger function, its status table and the recorder -----------------------------------

module "trigger" {
  source = "../../../examples/terraform"

  name_prefix                  = var.name_prefix
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = "x86_64"
  codedeploy_application_names = [aws_codedeploy_app.app.name]
  timeout                      = var.trigger_timeout
  deadline_margin_seconds      = var.deadline_margin_seconds
  # The emulator's group minutes last seconds: look often (GetDeployment is the only way to
  # see the termination wait start, shared/trigger/waiter.py).
  poll_interval_seconds          = 1
  fallback_poll_interval_seconds = 2
}

# --- the chain with the Ready gate ---------------------------------------------------------------

module "deployment" {
  source = "../../../examples/terraform/modules/deployment"

  function_name            = module.trigger.trigger_function_name
  function_timeout_seconds = module.trigger.trigger_timeout_seconds
  deadline_margin_seconds  = module.trigger.deadline_margin_seconds
  max_wait_minutes         = var.max_wait_minutes
  wait_until               = var.wait_until
  ready_gate               = var.ready_gate
  ready_check              = one(terraform_data.smoke_test[*].output)

  deployment = {
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
    description        = var.description
    onActiveDeployment = var.on_active_deployment
  }

  # The event rule, its target and the recorder's permission exist before the deployment
  # starts, or its first events are missed (the trigger would see them later, by polling).
  depends_on = [module.trigger]
}

# The check at Ready: it reads the module's output `ready`, so it runs once the deployment is
# Ready, and the module's continue link waits for its result (ready_check).
resource "terraform_data" "smoke_test" {
  count = var.ready_gate ? 1 : 0

  input = module.deployment.ready.deploymentId

  provisioner "local-exec" {
    command = var.check_command
  }
}

# The way out of a failed check: stop the deployment left in Ready, with rollback.
resource "aws_lambda_invocation" "stop" {
  count = var.stop_deployment_id == null ? 0 : 1

  function_name = module.trigger.trigger_function_name
  input = jsonencode({
    deploymentId = var.stop_deployment_id
    stop         = { rollback = true }
  })
}

output "result" {
  value = module.deployment.result
}

output "ready" {
  value = module.deployment.ready
}

output "deployment_id" {
  value = module.deployment.deployment_id
}

output "status" {
  value = module.deployment.status
}

output "link_results" {
  value = module.deployment.link_results
}

output "stop_result" {
  value = one(aws_lambda_invocation.stop[*].result)
}
