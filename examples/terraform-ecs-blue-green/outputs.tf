locals {
  # The trigger's final result as JSON: the one invocation's, or with the Ready
  # gate the chain's (after the continue link). A string in both branches, so
  # the conditional has one type whatever keys each result has.
  result_json = var.ready_gate ? jsonencode(one(module.deployment[*].result)) : one(aws_lambda_invocation.deploy[*].result)
  result      = jsondecode(local.result_json)
}

output "deployment_id" {
  description = "Id of the last CodeDeploy deployment started by Terraform."
  value       = lookup(local.result, "deploymentId", null)
}

output "status" {
  description = "Final status of that deployment (Succeeded; a failure fails the apply)."
  value       = lookup(local.result, "status", null)
}

output "console_url" {
  description = "The deployment in the CodeDeploy console."
  value       = lookup(local.result, "consoleUrl", null)
}

output "result" {
  description = "The trigger's whole final result (deploymentId, status, milestone, createdAt, completedAt, consoleUrl, ...); with ready_gate, that of the link after the gate."
  value       = local.result
}

output "ready" {
  description = "With ready_gate: the trigger's result when it saw the deployment Ready, before the check ran and anything continued it (status \"Ready\"). null without ready_gate."
  value       = one(module.deployment[*].ready)
}

output "url" {
  description = "Production endpoint of the service."
  value       = "http://${aws_lb.app.dns_name}/"
}

output "trigger_function_name" {
  description = "Trigger function, for other aws_lambda_invocation resources."
  value       = module.trigger.trigger_function_name
}

output "status_table_name" {
  description = "DynamoDB table with the deployment states recorded from EventBridge."
  value       = module.trigger.status_table_name
}
