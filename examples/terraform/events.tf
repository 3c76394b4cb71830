data "aws_service_principal" "events" {
  count        = local.tracking_count
  service_name = "events"
}

# CodeDeploy -> EventBridge -> recorder -> status table. The trigger reads the
# table while it waits, so it hears of a state change within
# status_read_interval_seconds instead of one GetDeployment poll later.
# Everything here exists only with status_tracking = true (count: 0 or 1).

locals {
  codedeploy_event_pattern = {
    source      = ["aws.codedeploy"]
    detail-type = ["CodeDeploy Deployment State-change Notification"]
  }
}

resource "aws_cloudwatch_event_rule" "codedeploy" {
  count = local.tracking_count

  name        = "${var.name_prefix}-deployment-state"
  description = "CodeDeploy deployment state changes, recorded by ${local.recorder_name}."
  # With named applications the rule only matches theirs (fewer recorder calls).
  event_pattern = local.all_applications ? jsonencode(local.codedeploy_event_pattern) : jsonencode(merge(
    local.codedeploy_event_pattern,
    { detail = { application = var.codedeploy_application_names } },
  ))
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "recorder" {
  count = local.tracking_count

  rule      = aws_cloudwatch_event_rule.codedeploy[0].name
  target_id = "recorder"
  arn       = aws_lambda_function.recorder[0].arn

  # Delivery retries (throttling, service errors); after them the event goes
  # to the DLQ instead of being dropped. The trigger's fallback polling
  # covers the gap either way.
  retry_policy {
    maximum_event_age_in_seconds = var.event_max_age_seconds
    maximum_retry_attempts       = var.event_max_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq[0].arn
  }
}

resource "aws_lambda_permission" "events" {
  count = local.tracking_count

  statement_id  = "AllowCodeDeployStateRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.recorder[0].function_name
  principal     = data.aws_service_principal.events[0].name
  source_arn    = aws_cloudwatch_event_rule.codedeploy[0].arn
}

# Dead letters of both hops: events EventBridge could not deliver to the
# recorder, and events the recorder failed on after Lambda's async retries.
resource "aws_sqs_queue" "dlq" {
  count = local.tracking_count

  name                      = "${var.name_prefix}-recorder-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  # SSE-SQS, or SSE-KMS with kms_key_arn (the two conflict). Both senders need the key:
  # Lambda sends the recorder's failures with the recorder's role (grant in iam.tf),
  # EventBridge its undelivered events as its service principal (key policy: output
  # kms_key_policy_statements_json).
  sqs_managed_sse_enabled = var.kms_key_arn == null ? true : null
  kms_master_key_id       = var.kms_key_arn
  tags                    = var.tags
}

data "aws_iam_policy_document" "dlq" {
  count = local.tracking_count

  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq[0].arn]

    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.events[0].name]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.codedeploy[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  count = local.tracking_count

  queue_url = aws_sqs_queue.dlq[0].id
  policy    = data.aws_iam_policy_document.dlq[0].json
}
