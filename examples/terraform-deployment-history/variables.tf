variable "region" {
  description = "Region of the trigger function and its status table."
  type        = string
  default     = "eu-west-1"
}

variable "trigger_function_name" {
  description = "The trigger function (the module's trigger_function_name output)."
  type        = string
  default     = "codedeploy-trigger-trigger"
}

variable "application_name" {
  description = "CodeDeploy application of the deployment group."
  type        = string
}

variable "deployment_group_name" {
  description = "CodeDeploy deployment group whose deployments to read."
  type        = string
}

variable "limit" {
  description = "How many deployments to return, newest first (1-50)."
  type        = number
  default     = 10

  validation {
    condition     = var.limit >= 1 && var.limit <= 50 && floor(var.limit) == var.limit
    error_message = "limit must be a whole number from 1 to 50."
  }
}
