output "deployment_id" {
  description = "Id of the last CodeDeploy deployment started by Terraform."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "deploymentId", null)
}

output "status" {
  description = "Final status of that deployment (Succeeded; a failure fails the apply)."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "status", null)
}

output "lifecycle" {
  description = "Where the last deployment's time went: BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "lifecycle", null)
}

output "console_url" {
  description = "The deployment in the CodeDeploy console."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "consoleUrl", null)
}

output "function_name" {
  description = "The deployed function; invoke it through the alias."
  value       = aws_lambda_function.app.function_name
}

output "alias_arn" {
  description = "The alias CodeDeploy shifts."
  value       = aws_lambda_alias.live.arn
}

output "published_version" {
  description = "The version published by the last apply (the alias serves it once its deployment succeeded)."
  value       = aws_lambda_function.app.version
}

output "alarm_name" {
  description = "The alarm that stops and rolls back a shift."
  value       = aws_cloudwatch_metric_alarm.errors.alarm_name
}

output "trigger_function_name" {
  description = "Trigger function, for other aws_lambda_invocation resources."
  value       = module.trigger.trigger_function_name
}

output "status_table_name" {
  description = "DynamoDB table with the deployment states recorded from EventBridge."
  value       = module.trigger.status_table_name
}
