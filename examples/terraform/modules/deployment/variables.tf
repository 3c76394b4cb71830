variable "function_name" {
  description = "Name of the trigger function (module.trigger.trigger_function_name of examples/terraform)."
  type        = string

  validation {
    condition     = length(var.function_name) > 0
    error_message = "function_name must not be empty: pass the trigger function's name."
  }
}

variable "deployment" {
  description = "The CreateDeployment input of the first link, as an object (applicationName, deploymentGroupName, revision, ...; see the input contract in the project README). onActiveDeployment may be given too. The module sets wait, waitUntil, onDeadline and stopOnTimeout per link itself."
  type        = any

  validation {
    condition = alltrue([
      for key in ["deploymentId", "wait", "waitUntil", "onDeadline", "stopOnTimeout"] :
      !contains(keys(var.deployment), key)
    ])
    error_message = "deployment must not set deploymentId, wait, waitUntil, onDeadline or stopOnTimeout: the module sets them per link (use the variables wait_until and stop_on_timeout)."
  }
}

variable "max_wait_minutes" {
  description = "How long the apply may wait for the deployment in total. The module runs ceil(max_wait_minutes / link_minutes) links, at most 4 (about 58 minutes with the default link_minutes)."
  type        = number
  default     = 58

  validation {
    # 4 links of at most 15 minutes each (Lambda's hard limit); the exact
    # ceiling, 4 * link_minutes, is checked against link_minutes at plan time.
    condition     = var.max_wait_minutes > 0 && var.max_wait_minutes <= 60
    error_message = "max_wait_minutes must be more than 0 and at most 4 * link_minutes (58 with the default link_minutes of 14.5; never more than 60): the chain has 4 links. For longer deployments create the deployment with wait = false and attach later."
  }
}

variable "link_minutes" {
  description = "How long one link (one invocation) waits at most: the trigger function's timeout minus its DEADLINE_MARGIN_SECONDS, in minutes. Default: (900 s - 30 s) / 60 = 14.5."
  type        = number
  default     = 14.5

  validation {
    condition     = var.link_minutes > 0 && var.link_minutes <= 15
    error_message = "link_minutes must be more than 0 and at most 15 (a Lambda invocation lasts at most 15 minutes)."
  }
}

variable "wait_until" {
  description = "Milestone that ends the wait: \"Succeeded\" (the end of the deployment) or \"Ready\" (blue/green: replacement ready, traffic not yet rerouted; a deployment that never stops at Ready returns at Succeeded)."
  type        = string
  default     = "Succeeded"

  validation {
    condition     = contains(["Succeeded", "Ready"], var.wait_until)
    error_message = "wait_until must be \"Succeeded\" or \"Ready\"."
  }
}

variable "stop_on_timeout" {
  description = "When the last link runs out of time, stop the deployment with rollback (stopOnTimeout of the last link) instead of leaving it running."
  type        = bool
  default     = false
}

variable "triggers" {
  description = "Arbitrary values whose change starts a new deployment (the first link's triggers), e.g. { task_definition = aws_ecs_task_definition.app.arn }. A change of `deployment` does so anyway."
  type        = map(string)
  default     = {}
}
