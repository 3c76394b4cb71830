output "trigger_function_name" {
  description = "Name of the trigger function: the function_name of your aws_lambda_invocation."
  value       = aws_lambda_function.trigger.function_name
}

# For the chain module (modules/deployment): how long one link waits is the
# function's timeout minus the trigger's deadline margin.
output "trigger_timeout_seconds" {
  description = "Timeout (s) of the trigger function: function_timeout_seconds of modules/deployment."
  value       = var.timeout
}

output "deadline_margin_seconds" {
  description = "DEADLINE_MARGIN_SECONDS of the trigger function: deadline_margin_seconds of modules/deployment."
  value       = var.deadline_margin_seconds
}

output "trigger_function_arn" {
  description = "ARN of the trigger function."
  value       = aws_lambda_function.trigger.arn
}

output "recorder_function_name" {
  description = "Name of the recorder function (EventBridge target). null without status_tracking."
  value       = one(aws_lambda_function.recorder[*].function_name)
}

output "recorder_function_arn" {
  description = "ARN of the recorder function. null without status_tracking."
  value       = one(aws_lambda_function.recorder[*].arn)
}

output "status_table_name" {
  description = "Name of the DynamoDB deployment status table. null without status_tracking."
  value       = one(aws_dynamodb_table.status[*].name)
}

output "status_table_arn" {
  description = "ARN of the DynamoDB deployment status table. null without status_tracking."
  value       = one(aws_dynamodb_table.status[*].arn)
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule for CodeDeploy deployment state changes. null without status_tracking."
  value       = one(aws_cloudwatch_event_rule.codedeploy[*].arn)
}

output "dead_letter_queue_url" {
  description = "URL of the SQS dead-letter queue for CodeDeploy events the recorder did not get or could not record; null without status_tracking."
  value       = one(aws_sqs_queue.dlq[*].id)
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS dead-letter queue. null without status_tracking."
  value       = one(aws_sqs_queue.dlq[*].arn)
}

output "status_tracking" {
  description = "Whether the status table, the recorder and the EventBridge rule exist (var.status_tracking)."
  value       = var.status_tracking
}

output "trigger_role_arn" {
  description = "ARN of the trigger function's execution role (the module's, or trigger_role_arn)."
  value       = local.trigger_role_arn
}

output "trigger_role_name" {
  description = "Name of the trigger function's execution role (the module's, or the last part of trigger_role_arn)."
  value       = element(split("/", local.trigger_role_arn), length(split("/", local.trigger_role_arn)) - 1)
}

output "trigger_log_group_name" {
  description = "CloudWatch log group of the trigger function."
  value       = aws_cloudwatch_log_group.trigger.name
}

output "recorder_role_arn" {
  description = "ARN of the recorder function's execution role (the module's, or recorder_role_arn); null without status_tracking."
  value       = local.recorder_role_arn
}

output "recorder_role_name" {
  description = "Name of the recorder function's execution role; null without status_tracking."
  value       = local.recorder_role_arn == null ? null : element(split("/", local.recorder_role_arn), length(split("/", local.recorder_role_arn)) - 1)
}

# For roles the caller creates (trigger_role_arn, recorder_role_arn): exactly the policies the
# module would attach, with this module's ARNs, and the trust policy both roles need.
output "trigger_policy_json" {
  description = "The trigger role's permissions as an IAM policy JSON document: attach it to a role you bring (trigger_role_arn)."
  value       = data.aws_iam_policy_document.trigger.json
}

output "recorder_policy_json" {
  description = "The recorder role's permissions as an IAM policy JSON document (null without status_tracking): attach it to a role you bring (recorder_role_arn)."
  value       = one(data.aws_iam_policy_document.recorder[*].json)
}

output "lambda_assume_role_policy_json" {
  description = "The trust policy both execution roles need (Lambda may assume them)."
  value       = data.aws_iam_policy_document.lambda_assume.json
}

output "recorder_log_group_name" {
  description = "CloudWatch log group of the recorder function; null without status_tracking."
  value       = one(aws_cloudwatch_log_group.recorder[*].name)
}

output "kms_key_policy_statements_json" {
  description = "The statements (a JSON array) to add to the key policy of kms_key_arn before setting it: CloudWatch Logs for the module's log groups and, with status_tracking, EventBridge for its dead-letter deliveries. The roles' own grants are in trigger_policy_json and recorder_policy_json; they take effect when the key policy lets IAM policies grant access to the key (the default key policy does)."
  value       = jsonencode(local.kms_key_policy_statements)
}
