variable "region" {
  description = "AWS region of the whole example."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the example's resources (Auto Scaling group, bucket prefix, CodeDeploy application and group, trigger functions)."
  type        = string
  default     = "ec2-inplace"

  validation {
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

variable "bundle_path" {
  description = "The revision bundle, a zip of bundle/ with appspec.yml at its root: cd bundle && python3 -m zipfile -c ../bundle.zip appspec.yml app scripts"
  type        = string
  default     = "bundle.zip"
}

variable "subnet_ids" {
  description = "Subnets of the instances. They need outbound HTTPS to S3 and CodeDeploy (a NAT gateway or VPC endpoints) for the agent."
  type        = list(string)
}

variable "ami_id" {
  description = "AMI of the instances; null: the latest Amazon Linux 2023 (public SSM parameter)."
  type        = string
  default     = null
}

variable "instance_type" {
  description = "Instance type."
  type        = string
  default     = "t3.micro"
}

variable "instance_count" {
  description = "Instances in the Auto Scaling group (min, max and desired)."
  type        = number
  default     = 2
}

variable "deployment_config_name" {
  description = "How many instances are deployed to at once: CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce or your own. Sent with each deployment, so changing it does not change the group."
  type        = string
  default     = "CodeDeployDefault.HalfAtATime"
}

variable "deployment_mode" {
  description = "STANDARD deploys the bundle; RESTART restarts the application on the instances with the group's last successful revision, without a new one (change restart_token to restart again)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "RESTART"], var.deployment_mode)
    error_message = "deployment_mode must be STANDARD or RESTART."
  }
}

variable "restart_token" {
  description = "Any value; a new one starts another deployment with the same input (with deployment_mode = RESTART: restart again)."
  type        = string
  default     = ""
}

variable "processes_to_suspend" {
  description = "Auto Scaling processes CodeDeploy suspends while it deploys (ec2DeploymentOptions.autoScalingGroupProcessesToSuspend): Terminate, AZRebalance, InstanceRefresh, ScheduledActions."
  type        = list(string)
  default     = ["AZRebalance", "ScheduledActions"]
}

variable "tags" {
  description = "Tags added to every resource (provider default_tags)."
  type        = map(string)
  default     = {}
}
