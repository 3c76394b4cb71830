# status_tracking put count on the tracking resources. A state written before that holds
# them without an index; these blocks move each to instance 0, so upgrading the module
# replaces nothing (Terraform documentation, "Refactor modules": "Create multiple
# instances"; Terraform >= 1.1, and the module requires 1.5). Removing a moved block is a
# breaking change there too, so they stay.
# The trigger's role and policy gained count with trigger_role_arn (bring your own role).
moved {
  from = aws_iam_role.trigger
  to   = aws_iam_role.trigger[0]
}

moved {
  from = aws_iam_role_policy.trigger
  to   = aws_iam_role_policy.trigger[0]
}

moved {
  from = aws_dynamodb_table.status
  to   = aws_dynamodb_table.status[0]
}

moved {
  from = aws_cloudwatch_event_rule.codedeploy
  to   = aws_cloudwatch_event_rule.codedeploy[0]
}

moved {
  from = aws_cloudwatch_event_target.recorder
  to   = aws_cloudwatch_event_target.recorder[0]
}

moved {
  from = aws_lambda_permission.events
  to   = aws_lambda_permission.events[0]
}

moved {
  from = aws_sqs_queue.dlq
  to   = aws_sqs_queue.dlq[0]
}

moved {
  from = aws_sqs_queue_policy.dlq
  to   = aws_sqs_queue_policy.dlq[0]
}

moved {
  from = aws_iam_role.recorder
  to   = aws_iam_role.recorder[0]
}

moved {
  from = aws_iam_role_policy.recorder
  to   = aws_iam_role_policy.recorder[0]
}

moved {
  from = aws_cloudwatch_log_group.recorder
  to   = aws_cloudwatch_log_group.recorder[0]
}

moved {
  from = aws_lambda_function.recorder
  to   = aws_lambda_function.recorder[0]
}
