data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # .id is the region name in provider 5.x and 6.x (.name is deprecated in 6.x).
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  # status_tracking: the table, the recorder, the EventBridge rule and the queue, each
  # with count = this (0 or 1). The trigger's resources have no count: their addresses
  # are the same in both modes, so switching tracking on or off never replaces them.
  tracking_count = var.status_tracking ? 1 : 0

  # kms_key_arn: one customer managed key for the table, the log groups, the queue and both
  # functions' environment; [] or [the ARN], for the policy statements that use it.
  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]
  # Logs, DynamoDB and SQS accept only a key in their own region and partition.
  kms_key_arn_parts = split(":", coalesce(var.kms_key_arn, "arn:-:kms:-:-:-"))
  kms_key_is_local  = var.kms_key_arn == null || (local.kms_key_arn_parts[1] == local.partition && local.kms_key_arn_parts[3] == local.region)

  trigger_name  = "${var.name_prefix}-trigger"
  recorder_name = "${var.name_prefix}-recorder"

  # IAM names are global: with role_names_include_region, one name_prefix serves every
  # region of an account. At most 40 + len("-recorder-") + 14 (the longest region names,
  # e.g. ap-southeast-5) = 64, IAM's limit for a role name.
  role_name_suffix   = var.role_names_include_region ? "-${local.region}" : ""
  trigger_role_name  = "${local.trigger_name}${local.role_name_suffix}"
  recorder_role_name = "${local.recorder_name}${local.role_name_suffix}"

  # The module's role, or the caller's (trigger_role_arn, recorder_role_arn).
  create_trigger_role  = var.trigger_role_arn == null
  create_recorder_role = var.status_tracking && var.recorder_role_arn == null
  trigger_role_arn     = coalesce(var.trigger_role_arn, one(aws_iam_role.trigger[*].arn))
  recorder_role_arn    = var.status_tracking ? coalesce(var.recorder_role_arn, one(aws_iam_role.recorder[*].arn)) : null

  all_applications = contains(var.codedeploy_application_names, "*")

  # CodeDeploy ARNs: deployments are authorized on the deployment group,
  # revisions on the application (Service Authorization Reference).
  codedeploy_arn_prefix = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}"
  codedeploy_application_arns = [
    for app in var.codedeploy_application_names : "${local.codedeploy_arn_prefix}:application:${app}"
  ]
  codedeploy_deployment_group_arns = [
    for app in var.codedeploy_application_names : "${local.codedeploy_arn_prefix}:deploymentgroup:${app}/*"
  ]

  # Read by handlers/trigger.py; every value must be a string. An unset
  # fallback cap is left out, so that the function's default (which follows
  # FALLBACK_POLL_INTERVAL_SECONDS) applies. Without status tracking
  # STATUS_TABLE_NAME is left out: the trigger then polls GetDeployment (README,
  # "Status tracking or the trigger alone"); the table's knobs stay, unused, so
  # that switching tracking on changes this one key only.
  trigger_environment = merge(
    { for table in aws_dynamodb_table.status : "STATUS_TABLE_NAME" => table.name },
    {
      POLL_INTERVAL_SECONDS          = tostring(var.poll_interval_seconds)
      STATUS_READ_INTERVAL_SECONDS   = tostring(var.status_read_interval_seconds)
      FALLBACK_POLL_INTERVAL_SECONDS = tostring(var.fallback_poll_interval_seconds)
      DEADLINE_MARGIN_SECONDS        = tostring(var.deadline_margin_seconds)
      STATUS_TTL_DAYS                = tostring(var.status_ttl_days)
      IDEMPOTENCY_TTL_SECONDS        = tostring(var.idempotency_ttl_seconds)
      TERRAFORM_KEY                  = var.terraform_key
      INCLUDE_LOG_TAILS              = tostring(var.include_log_tails)
      POWERTOOLS_SERVICE_NAME        = "codedeploy-trigger"
      POWERTOOLS_METRICS_NAMESPACE   = "CodeDeployTrigger"
      POWERTOOLS_LOG_LEVEL           = var.log_level
    },
    var.fallback_poll_max_interval_seconds == null ? {} : {
      FALLBACK_POLL_MAX_INTERVAL_SECONDS = tostring(var.fallback_poll_max_interval_seconds)
    },
  )

  # The shortest timeout that leaves the trigger room to work: the deadline
  # margin, two status reads and 10 s for CreateDeployment and the final
  # GetDeployment. Below it the deadline guard would fire before the first read.
  min_trigger_timeout = var.deadline_margin_seconds + 2 * var.status_read_interval_seconds + 10

  # With tracing_config mode = "Active", Lambda uploads trace data with the
  # function's role and refuses to create the function without these (Lambda
  # developer guide, "Using AWS Lambda with AWS X-Ray": "Your function needs
  # permission to upload trace data to X-Ray"; the two write actions of the
  # AWSXRayDaemonWriteAccess policy it names). X-Ray has no resource types
  # for them (Service Authorization Reference), hence Resource "*".
  tracing_active     = var.tracing_mode == "Active"
  xray_write_actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]

  # Read by handlers/recorder.py.
  recorder_environment = {
    STATUS_TABLE_NAME            = one(aws_dynamodb_table.status[*].name)
    STATUS_TTL_DAYS              = tostring(var.status_ttl_days)
    POWERTOOLS_SERVICE_NAME      = "codedeploy-recorder"
    POWERTOOLS_METRICS_NAMESPACE = "CodeDeployTrigger"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }

  # The release zip: a local file or an S3 object, exactly one (precondition in lambda.tf).
  zip_from_file          = local.lambda_zip_path != null # lambda.tf: the given or bundled zip
  zip_from_s3            = var.lambda_s3_bucket != null || var.lambda_s3_key != null
  zip_source_is_one      = local.zip_from_file != local.zip_from_s3
  zip_source_message     = "Set exactly one zip source: lambda_zip_path (a local file) or lambda_s3_bucket with lambda_s3_key (an S3 object); got ${local.zip_from_file && local.zip_from_s3 ? "both" : "neither, and this copy of the module bundles no zip for ${var.architecture} (the release's module archive codedeploy-trigger-module_<version>.zip has both in dist/; a copy from git or a local path has none)"}."
  zip_s3_complete        = !local.zip_from_s3 || (var.lambda_s3_bucket != null && var.lambda_s3_key != null)
  zip_s3_message         = "lambda_s3_bucket and lambda_s3_key go together: set both (and optionally lambda_s3_object_version)."
  zip_s3_version_set     = var.lambda_s3_object_version == null || local.zip_from_s3
  zip_s3_version_message = "lambda_s3_object_version only applies to a zip in S3 (lambda_s3_bucket, lambda_s3_key)."

  # Terraform can hash only a local file. For S3 there is no source_code_hash (null): the
  # provider updates the code when s3_bucket, s3_key or s3_object_version change
  # (resource aws_lambda_function, "Specifying the Deployment Package" in its documentation).
  lambda_zip_sha256 = local.zip_from_file ? filebase64sha256(local.lambda_zip_path) : null

  # The release zip names its architecture (_linux_amd64 / _linux_arm64);
  # Lambda names the same thing x86_64 / arm64.
  zip_name         = basename(coalesce(local.lambda_zip_path, var.lambda_s3_key, "-"))
  zip_names_amd64  = strcontains(local.zip_name, "_linux_amd64")
  zip_names_arm64  = strcontains(local.zip_name, "_linux_arm64")
  zip_matches_arch = var.architecture == "arm64" ? !local.zip_names_amd64 : !local.zip_names_arm64
}
