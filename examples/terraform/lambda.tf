# Both functions run from the same release zip; only the handler differs.

locals {
  # The module archive of a release (codedeploy-trigger-module_<version>.zip) carries both
  # zips in dist/; a copy from git or a local path has none. fileset() of a missing
  # directory is empty, so there the zip must come from lambda_zip_path or S3.
  bundled_zip_arch = var.architecture == "x86_64" ? "amd64" : "arm64"
  bundled_zips     = fileset("${path.module}/dist", "codedeploy-trigger_*_linux_${local.bundled_zip_arch}.zip")
  bundled_zip_path = length(local.bundled_zips) == 1 ? "${path.module}/dist/${one(local.bundled_zips)}" : null

  # An explicit zip (a file or an S3 object) wins over the bundled one.
  lambda_zip_path = var.lambda_zip_path != null || local.zip_from_s3 ? var.lambda_zip_path : local.bundled_zip_path
}

resource "aws_cloudwatch_log_group" "trigger" {
  #checkov:skip=CKV_AWS_158:A customer managed key is optional (var.kms_key_arn, default null); without it CloudWatch Logs encrypts at rest with its own key. The logs hold deployment ids and states and the runtime's copy of each error, whose hook log tails have credential shapes masked (var.include_log_tails = false leaves them out).
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default, for operations); raise it where a compliance rule asks for a year.
  name              = "/aws/lambda/${local.trigger_name}"
  retention_in_days = var.log_retention_days
  # CloudWatch Logs uses the key itself, as its service principal: the key policy must allow
  # it (output kms_key_policy_statements_json); the roles need nothing for it.
  kms_key_id = var.kms_key_arn
  tags       = var.tags

  lifecycle {
    precondition {
      condition     = local.kms_key_is_local
      error_message = "kms_key_arn (${coalesce(var.kms_key_arn, "-")}) must be a key in the module's partition and region (${local.partition}, ${local.region}): CloudWatch Logs, DynamoDB and SQS accept only a key of their own region."
    }
  }
}

resource "aws_cloudwatch_log_group" "recorder" {
  count = local.tracking_count

  #checkov:skip=CKV_AWS_158:A customer managed key is optional (var.kms_key_arn, default null); without it CloudWatch Logs encrypts at rest with its own key. The logs carry deployment ids and states, no secrets.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default, for operations); raise it where a compliance rule asks for a year.
  name              = "/aws/lambda/${local.recorder_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "trigger" {
  #checkov:skip=CKV_AWS_117:The function only calls AWS APIs (CodeDeploy, DynamoDB); a VPC would add NAT or endpoints and nothing to protect.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by aws_lambda_invocation, so a failure goes straight back to Terraform; a DLQ only serves asynchronous calls.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would take capacity from the account pool (new accounts have too little to reserve); one call runs per terraform apply.
  #checkov:skip=CKV_AWS_173:A customer managed key is optional (var.kms_key_arn, default null: Lambda's AWS managed key); the environment holds a table name and timing knobs, no secrets.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built and checksummed locally (source_code_hash).
  function_name    = local.trigger_name
  description      = "Starts a CodeDeploy deployment for Terraform (aws_lambda_invocation) and waits for it."
  role             = local.trigger_role_arn
  runtime          = var.runtime
  architectures    = [var.architecture]
  handler          = "handlers.trigger.lambda_handler"
  filename         = local.lambda_zip_path # or the S3 object below: exactly one (preconditions)
  s3_bucket        = var.lambda_s3_bucket
  s3_key           = var.lambda_s3_key
  source_code_hash = local.lambda_zip_sha256 # null for S3: Terraform cannot hash a remote object
  memory_size      = var.memory_size
  timeout          = var.timeout

  # Only with a zip in S3: a new version id of the object updates the code.
  s3_object_version = var.lambda_s3_object_version

  environment {
    variables = local.trigger_environment
  }

  # Encrypts the environment at rest. Lambda decrypts it with the execution role (grant in
  # iam.tf); the Terraform caller needs kms:Encrypt and kms:CreateGrant on the key to create or
  # update the function (README, "A customer managed KMS key").
  kms_key_arn = var.kms_key_arn

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.zip_source_is_one
      error_message = local.zip_source_message
    }
    precondition {
      condition     = local.zip_s3_complete
      error_message = local.zip_s3_message
    }
    precondition {
      condition     = local.zip_s3_version_set
      error_message = local.zip_s3_version_message
    }
    precondition {
      condition     = local.zip_matches_arch
      error_message = "The release zip (${local.zip_name}) was built for another architecture than var.architecture (${var.architecture}): use the _linux_arm64 zip for arm64 and the _linux_amd64 zip for x86_64."
    }

    # A precondition, not a variable validation: validations may refer to
    # other variables only from Terraform 1.9, and this module supports 1.5.
    # Both variables at once: a precondition, like the timeout's below.
    precondition {
      condition     = var.fallback_poll_max_interval_seconds == null || try(var.fallback_poll_max_interval_seconds >= var.fallback_poll_interval_seconds, false)
      error_message = "fallback_poll_max_interval_seconds (${coalesce(var.fallback_poll_max_interval_seconds, 0)} s) must be at least fallback_poll_interval_seconds (${var.fallback_poll_interval_seconds} s), as the trigger requires; leave it null to follow the interval."
    }

    precondition {
      condition     = var.timeout >= local.min_trigger_timeout
      error_message = "timeout (${var.timeout} s) must be at least deadline_margin_seconds + 2 * status_read_interval_seconds + 10 = ${var.deadline_margin_seconds} + 2 * ${var.status_read_interval_seconds} + 10 = ${local.min_trigger_timeout} s: below that the trigger gives up before it can read the deployment's status. Raise timeout or lower deadline_margin_seconds."
    }
  }

  # The log group must exist first: otherwise Lambda creates it on the first
  # call, without retention, and Terraform later fails to create it.
  depends_on = [
    aws_cloudwatch_log_group.trigger,
    aws_iam_role_policy.trigger,
  ]
}

# Only with status_tracking: the trigger above keeps its address either way, so switching
# status_tracking on updates it in place (environment, policy) instead of replacing it.
resource "aws_lambda_function" "recorder" {
  count = local.tracking_count

  #checkov:skip=CKV_AWS_117:The function only calls DynamoDB; a VPC would add NAT or endpoints and nothing to protect.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would take capacity from the account pool (new accounts have too little to reserve); the event rate is a few per deployment.
  #checkov:skip=CKV_AWS_173:A customer managed key is optional (var.kms_key_arn, default null: Lambda's AWS managed key); the environment holds a table name and a TTL, no secrets.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built and checksummed locally (source_code_hash).
  function_name    = local.recorder_name
  description      = "Records CodeDeploy deployment state-change events in the status table."
  role             = local.recorder_role_arn
  runtime          = var.runtime
  architectures    = [var.architecture]
  handler          = "handlers.recorder.lambda_handler"
  filename         = local.lambda_zip_path # or the S3 object below: exactly one (preconditions)
  s3_bucket        = var.lambda_s3_bucket
  s3_key           = var.lambda_s3_key
  source_code_hash = local.lambda_zip_sha256 # null for S3: Terraform cannot hash a remote object
  memory_size      = var.recorder_memory_size
  timeout          = var.recorder_timeout

  # Only with a zip in S3: a new version id of the object updates the code.
  s3_object_version = var.lambda_s3_object_version

  environment {
    # Other origins than the recorder's own account and region: only when asked for.
    variables = merge(
      local.recorder_environment,
      length(var.recorder_allowed_event_origins) == 0 ? {} : {
        RECORDER_ALLOWED_EVENT_ORIGINS = join(",", var.recorder_allowed_event_origins)
      },
    )
  }

  kms_key_arn = var.kms_key_arn

  tracing_config {
    mode = var.tracing_mode
  }

  # EventBridge invokes asynchronously: after Lambda's own two retries a
  # failing event is kept here instead of being dropped.
  dead_letter_config {
    target_arn = aws_sqs_queue.dlq[0].arn
  }

  tags = var.tags

  # The other zip checks sit on the trigger only: both functions run the same zip, and a
  # failed precondition fails the whole plan. This one is repeated because Terraform checks
  # preconditions before the provider validates the arguments: without it, a missing zip
  # shows here as the provider's "one of `filename,image_uri,s3_bucket` must be specified".
  lifecycle {
    precondition {
      condition     = local.zip_source_is_one
      error_message = local.zip_source_message
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.recorder,
    aws_iam_role_policy.recorder,
  ]
}
