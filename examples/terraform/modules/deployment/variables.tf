variable "function_name" {
  description = "Name of the trigger function (module.trigger.trigger_function_name of examples/terraform)."
  type        = string

  validation {
    condition     = length(var.function_name) > 0
    error_message = "function_name must not be empty: pass the trigger function's name."
  }
}

variable "deployment" {
  description = "The CreateDeployment request (applicationName, deploymentGroupName, revision, ...; see the project's docs/input-contract.md), as an object. onActiveDeployment may be given too. This is the deploying link's whole input (with wait = false): a change of it starts a new deployment. How to wait is set by the other variables, on the waiting links only."
  type        = any

  validation {
    condition = alltrue([
      for key in ["deploymentId", "wait", "waitUntil", "onDeadline", "stopOnTimeout", "waitForRollback", "includeLogTails"] :
      !contains(keys(var.deployment), key)
    ])
    error_message = "deployment must not set deploymentId, wait, waitUntil, onDeadline, stopOnTimeout, waitForRollback or includeLogTails: the module sets them on the waiting links (use the variables wait_until, stop_on_timeout, wait_for_rollback and include_log_tails), so that changing how to wait never starts a new deployment."
  }
}

variable "max_wait_minutes" {
  description = "How long the apply may wait for the deployment in total. The module runs ceil(max_wait_minutes * 60 / (function_timeout_seconds - deadline_margin_seconds)) waiting links, at most 4 (58 minutes with the trigger module's defaults, 900 s and 30 s)."
  type        = number
  default     = 58

  validation {
    # 4 links of at most 15 minutes each (Lambda's hard limit); the exact
    # ceiling, 4 links of the function's timeout minus its margin, is a
    # precondition (validations may refer to other variables only from Terraform 1.9).
    condition     = var.max_wait_minutes > 0 && var.max_wait_minutes <= 60
    error_message = "max_wait_minutes must be more than 0 and at most 4 links of (function_timeout_seconds - deadline_margin_seconds), 58 with the defaults; never more than 60: the chain has 4 waiting links. For longer deployments create the deployment with wait = false and attach later."
  }
}

variable "function_timeout_seconds" {
  description = "Timeout (s) of the trigger function: module.trigger.trigger_timeout_seconds of examples/terraform. With deadline_margin_seconds it sets how long one link waits."
  type        = number
  default     = 900

  validation {
    condition     = var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 900
    error_message = "function_timeout_seconds must be between 1 and 900 (the Lambda limit): pass module.trigger.trigger_timeout_seconds."
  }
}

variable "deadline_margin_seconds" {
  description = "DEADLINE_MARGIN_SECONDS of the trigger function: module.trigger.deadline_margin_seconds of examples/terraform. A link waits function_timeout_seconds minus this."
  type        = number
  default     = 30

  validation {
    condition     = var.deadline_margin_seconds >= 0
    error_message = "deadline_margin_seconds must not be negative: pass module.trigger.deadline_margin_seconds."
  }
}

variable "link_minutes" {
  description = "Removed: the link length now follows function_timeout_seconds and deadline_margin_seconds (outputs of the trigger module). Kept for one release only to say so; leave it unset."
  type        = number
  default     = null

  validation {
    condition     = var.link_minutes == null
    error_message = "link_minutes was removed: a link now waits function_timeout_seconds - deadline_margin_seconds. Remove link_minutes and pass function_timeout_seconds = module.trigger.trigger_timeout_seconds and deadline_margin_seconds = module.trigger.deadline_margin_seconds instead."
  }
}

variable "wait_until" {
  description = "Milestone that ends the wait: \"Succeeded\" (the end of the deployment), \"TrafficShifted\" (blue/green with TERMINATE: production traffic is on the replacement and the original waits for the group's termination wait; every other deployment returns at Succeeded) or \"Ready\" (blue/green: replacement ready, traffic not yet rerouted; a deployment that never stops at Ready returns at Succeeded). With ready_gate, what the links after the gate wait for: \"Succeeded\" or \"TrafficShifted\"."
  type        = string
  default     = "Succeeded"

  validation {
    condition     = contains(["Succeeded", "TrafficShifted", "Ready"], var.wait_until)
    error_message = "wait_until must be \"Succeeded\", \"TrafficShifted\" or \"Ready\"."
  }
}

variable "ready_gate" {
  description = "Stop at Ready for a check of yours: the waiting links wait until Ready (output ready), your check runs (any resource that reads module.<name>.ready, e.g. terraform_data with a smoke test against the test listener), and once ready_check carries its result the next link continues the deployment (ContinueDeployment READY_WAIT) and waits for wait_until. A failing check fails the apply and leaves the deployment in Ready. Needs a blue/green group that waits at Ready (deployment_ready_option action_on_timeout = \"STOP_DEPLOYMENT\")."
  type        = bool
  default     = false
}

variable "ready_check" {
  description = "With ready_gate: the result of your check at Ready (e.g. terraform_data.smoke_test.output). Only its arrival matters: the deployment is continued after the resource that produces it succeeded. Leave null without ready_gate."
  type        = any
  default     = null
}

variable "wait_for_rollback" {
  description = "When the deployment fails and CodeDeploy rolls it back, wait (within the link's deadline) for the rollback and say whether the previous version serves again (waitForRollback of the waiting links)."
  type        = bool
  default     = true
}

variable "stop_on_timeout" {
  description = "When the last link runs out of time, stop the deployment with rollback (stopOnTimeout of the last link) instead of leaving it running."
  type        = bool
  default     = false
}

variable "triggers" {
  description = "Arbitrary values whose change starts a new deployment (the deploying link's triggers), e.g. { task_definition = aws_ecs_task_definition.app.arn }. A change of `deployment` does so anyway; nothing else does."
  type        = map(string)
  default     = {}
}

variable "include_log_tails" {
  description = "includeLogTails of every waiting link (any of them may report the failure): false leaves hook log tails out of the failure explanation. The trigger's INCLUDE_LOG_TAILS = false wins over it. A waiting option: changing it never starts a new deployment."
  type        = bool
  default     = true
}
