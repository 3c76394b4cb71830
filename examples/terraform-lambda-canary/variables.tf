variable "region" {
  description = "AWS region of the whole example."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the example's resources (function, alias, alarm, CodeDeploy application and group, trigger functions)."
  type        = string
  default     = "lambda-canary"

  validation {
    # Hook functions are named CodeDeployHook_<name>-before-allow-traffic: at most 64 characters.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.name))
    error_message = "name must be 1-20 lower-case letters, digits or '-', starting with a letter or digit."
  }
}

variable "lambda_zip_path" {
  description = "Path to the codedeploy-trigger release zip built by `make package`, e.g. ../../package/codedeploy-trigger_<version>_linux_arm64.zip."
  type        = string
}

variable "lambda_architecture" {
  description = "Architecture of the trigger and recorder functions: arm64 or x86_64 (must match the release zip)."
  type        = string
  default     = "arm64"
}

variable "function_zip_path" {
  description = "Zip of src/ (the deployed function and its hooks): python3 -m zipfile -c function.zip src/app.py src/hooks.py"
  type        = string
  default     = "function.zip"
}

variable "message_template" {
  description = "What the function answers, with {version} for the version that answers. Change it (or the code) and apply: a new version is published and CodeDeploy shifts the alias to it."
  type        = string
  default     = "Hello from version {version}"
}

variable "alias_name" {
  description = "The alias CodeDeploy shifts from the version it serves to the new one; callers invoke the function through it."
  type        = string
  default     = "live"
}

variable "deployment_config_name" {
  description = "How traffic shifts: CodeDeployDefault.LambdaCanary10Percent5Minutes, ...Linear10PercentEvery1Minute, ...AllAtOnce, or your own. The whole shift must end within the trigger's 15 minutes (use modules/deployment beyond that)."
  type        = string
  default     = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
}

variable "runtime" {
  description = "Python runtime of the deployed function and its hooks."
  type        = string
  default     = "python3.13"
}

variable "log_retention_days" {
  description = "Retention of the function's and the hooks' log groups."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource (provider default_tags)."
  type        = map(string)
  default     = {}
}
