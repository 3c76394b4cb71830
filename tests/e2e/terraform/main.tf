# End-to-end configuration: the examples/terraform module, a CodeDeploy application and
# deployment group, and one deployment started through aws_lambda_invocation, all against the
# local emulator (tests/e2e/emulator.py). The tests copy this directory and examples/terraform
# side by side into a temporary directory, so the relative module source holds there too.

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
  description = "The release zip (package/codedeploy-trigger_<version>_linux_amd64.zip), or null with the lambda_s3_* variables."
  type        = string
  default     = null
}

variable "lambda_s3_bucket" {
  description = "Bucket of the release zip in the emulator's S3 (instead of lambda_zip_path)."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the release zip in lambda_s3_bucket."
  type        = string
  default     = null
}

variable "lambda_s3_object_version" {
  description = "Version id of the zip object in lambda_s3_bucket."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name, unique per test (the emulator is shared)."
  type        = string
  default     = "cdt-e2e"
}

variable "description" {
  description = "Deployment description; the emulator reads simulate:fail / simulate:stop in it."
  type        = string
  default     = "e2e deployment"
}

variable "lifecycle_scope" {
  description = "aws_lambda_invocation lifecycle_scope: CREATE_ONLY (what the README recommends) or CRUD."
  type        = string
  default     = "CREATE_ONLY"
}

variable "appspec" {
  description = "AppSpec content of the deployment revision."
  type        = string
  default     = <<-APPSPEC
    version: 0.0
    Resources:
      - TargetService:
          Type: AWS::ECS::Service
          Properties:
            TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"
            LoadBalancerInfo:
              ContainerName: "app"
              ContainerPort: 80
  APPSPEC
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

# codedeploy.amazonaws.com.cn in aws-cn: the provider knows each partition's name.
data "aws_service_principal" "codedeploy" {
  service_name = "codedeploy"
}

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.codedeploy.name]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name               = "${var.name_prefix}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
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

  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}

# --- the module under test ----------------------------------------------------------------

module "trigger" {
  source = "../../../examples/terraform"

  name_prefix                  = var.name_prefix
  lambda_zip_path              = var.lambda_zip_path
  lambda_s3_bucket             = var.lambda_s3_bucket
  lambda_s3_key                = var.lambda_s3_key
  lambda_s3_object_version     = var.lambda_s3_object_version
  architecture                 = "x86_64"
  codedeploy_application_names = [aws_codedeploy_app.app.name]
}

# --- one deployment, waited for --------------------------------------------------------------

resource "aws_lambda_invocation" "deploy" {
  function_name   = module.trigger.trigger_function_name
  lifecycle_scope = var.lifecycle_scope

  input = jsonencode({
    applicationName     = aws_codedeploy_app.app.name
    deploymentGroupName = aws_codedeploy_deployment_group.group.deployment_group_name
    revision = {
      revisionType   = "AppSpecContent"
      appSpecContent = { content = var.appspec }
    }
    description = var.description
    wait        = true
    autoRollbackConfiguration = {
      enabled = true
      events  = ["DEPLOYMENT_FAILURE"]
    }
  })

  # The whole module, not only the function: the EventBridge rule, its target and the
  # recorder must be in place before the deployment starts, or its events are missed.
  depends_on = [module.trigger]
}

output "deployment_id" {
  value = jsondecode(aws_lambda_invocation.deploy.result).deploymentId
}

output "status" {
  value = jsondecode(aws_lambda_invocation.deploy.result).status
}

output "status_table_name" {
  value = module.trigger.status_table_name
}

output "trigger_function_name" {
  value = module.trigger.trigger_function_name
}
