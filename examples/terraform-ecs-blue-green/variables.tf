variable "region" {
  description = "AWS region of the whole example."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the example's resources (cluster, service, load balancer, CodeDeploy application, functions)."
  type        = string
  default     = "ecs-bg-demo"

  validation {
    # Load balancer and target group names are limited to 32 characters;
    # the longest suffix added here is "-green" (6).
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.name))
    error_message = "name must be 1-20 lower-case letters, digits or '-', starting with a letter or digit."
  }
}

variable "lambda_zip_path" {
  description = "Path to the release zip built by `make package`, e.g. ../../package/codedeploy-trigger_<version>_linux_arm64.zip."
  type        = string
}

variable "lambda_architecture" {
  description = "Architecture of the trigger and recorder functions: arm64 or x86_64 (must match the zip)."
  type        = string
  default     = "arm64"
}

variable "image" {
  description = "Container image of the service. Change it (or anything else in the task definition) and apply: a new blue/green deployment runs."
  type        = string
  default     = "public.ecr.aws/nginx/nginx:stable-alpine"
}

variable "container_port" {
  description = "Port the container listens on (HTTP)."
  type        = number
  default     = 80
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 512
}

variable "desired_count" {
  description = "Number of tasks of the service."
  type        = number
  default     = 2
}

variable "vpc_cidr" {
  description = "CIDR block of the example VPC (two public subnets are carved out of it)."
  type        = string
  default     = "10.42.0.0/16"
}

variable "allowed_cidr_blocks" {
  description = "Who may reach the production listener (port 80)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "test_listener_cidr_blocks" {
  description = "Who may reach the test listener (port 8080) that serves the replacement (green) tasks during a deployment. Empty: the VPC only."
  type        = list(string)
  default     = []
}

variable "deployment_config_name" {
  description = "CodeDeploy deployment configuration: how traffic shifts (all at once, canary, linear)."
  type        = string
  default     = "CodeDeployDefault.ECSAllAtOnce"
}

variable "termination_wait_time_in_minutes" {
  description = "Minutes the original (blue) tasks are kept after traffic moved. CodeDeploy reports Succeeded only after that, and the trigger must see it within its 900 s Lambda timeout, so keep it small."
  type        = number
  default     = 1

  validation {
    condition     = var.termination_wait_time_in_minutes >= 0 && var.termination_wait_time_in_minutes <= 10
    error_message = "termination_wait_time_in_minutes must be between 0 and 10 so that the deployment ends within the trigger's 900 s timeout."
  }
}

variable "log_retention_days" {
  description = "Retention of the service's log group."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource (provider default_tags)."
  type        = map(string)
  default     = {}
}

variable "ready_gate" {
  description = "Hold each deployment at Ready (replacement tasks up behind the test listener, production traffic not moved) and run ready_check_command against the test listener before the traffic shifts. The deployment then goes through the chain module (../terraform/modules/deployment) instead of one aws_lambda_invocation. Turning it on or off starts a new deployment of the current task definition."
  type        = bool
  default     = false
}

variable "ready_wait_minutes" {
  description = "With ready_gate: how long the deployment group holds a deployment at Ready before it stops it by itself (deployment_ready_option wait_time_in_minutes with STOP_DEPLOYMENT). The check and the continue link run within it; after a failing check it is how long the replacement tasks stay up for you to look at them."
  type        = number
  default     = 60

  validation {
    condition     = var.ready_wait_minutes >= 1 && floor(var.ready_wait_minutes) == var.ready_wait_minutes
    error_message = "ready_wait_minutes must be a whole number of minutes, at least 1: the check and the continue link need time to run before the group stops the deployment."
  }
}

variable "ready_check_command" {
  description = "With ready_gate: the shell command (local-exec, on the machine running Terraform) that checks the replacement tasks at Ready; a non-zero exit fails the apply and leaves the deployment in Ready. null: curl --fail --retry 5 --retry-all-errors against the test listener (http://<load balancer DNS name>:8080/), which must then admit that machine (test_listener_cidr_blocks)."
  type        = string
  default     = null
}
