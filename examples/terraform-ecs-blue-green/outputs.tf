output "deployment_id" {
  description = "Id of the last CodeDeploy deployment started by Terraform."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "deploymentId", null)
}

output "status" {
  description = "Final status of that deployment (Succeeded; a failure fails the apply)."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "status", null)
}

output "console_url" {
  description = "The deployment in the CodeDeploy console."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "consoleUrl", null)
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
