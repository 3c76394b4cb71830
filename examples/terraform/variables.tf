variable "name_prefix" {
  description = "Prefix of every resource name (functions, roles, table, rule, queue)."
  type        = string
  default     = "codedeploy-trigger"

  validation {
    # IAM role names are limited to 64 characters; the longest suffix added
    # here is "-recorder-dlq" (13), so 40 leaves room.
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 characters of letters, digits, '-' or '_'."
  }
}

variable "status_tracking" {
  description = "true (default): the status table, the recorder, the EventBridge rule and the dead-letter queue, for event-driven detection, duplicate protection, history queries and stopOnTimeout on an attached deployment. false: the trigger function, its role and its log group only; the trigger polls GetDeployment every poll_interval_seconds. Switching it on later adds the rest and updates the trigger in place (environment and policy), replacing nothing."
  type        = bool
  default     = true
  nullable    = false
}

# --- IAM: the module's roles, or your own -----------------------------------------------------

variable "trigger_role_arn" {
  description = "An existing execution role for the trigger function. null (default): the module creates it. Given: the module creates no role and no policy for the trigger; the role must trust lambda.amazonaws.com and grant the output trigger_policy_json (the policy the module would attach, with this module's ARNs)."
  type        = string
  default     = null

  validation {
    condition     = var.trigger_role_arn == null || can(regex("^arn:[^:]+:iam::[0-9]{12}:role/.+$", coalesce(var.trigger_role_arn, "-")))
    error_message = "trigger_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<path><name>), or null to let the module create the role."
  }
}

variable "recorder_role_arn" {
  description = "An existing execution role for the recorder function (status_tracking only). null (default): the module creates it. Given: no role or policy is created for the recorder; the role must trust lambda.amazonaws.com and grant the output recorder_policy_json."
  type        = string
  default     = null

  validation {
    condition     = var.recorder_role_arn == null || can(regex("^arn:[^:]+:iam::[0-9]{12}:role/.+$", coalesce(var.recorder_role_arn, "-")))
    error_message = "recorder_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<path><name>), or null to let the module create the role."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary (a managed policy ARN) set on the roles the module creates. null (default): none. The boundary must allow the actions of trigger_policy_json and recorder_policy_json, or the functions are denied them."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:[^:]+:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.permissions_boundary_arn, "-")))
    error_message = "permissions_boundary_arn must be a managed policy ARN (arn:<partition>:iam::<account or aws>:policy/<path><name>), or null."
  }
}

variable "kms_key_arn" {
  description = "A customer managed KMS key (its key ARN, in the module's region) that encrypts the status table, both log groups, the dead-letter queue and both functions' environment. null (default): each uses its service's own encryption at rest (AWS owned or AWS managed keys). The module does not create the key or change its key policy: add the statements of output kms_key_policy_statements_json to it first (README, \"A customer managed KMS key\")."
  type        = string
  default     = null

  validation {
    # A key ARN, not an alias (IAM grants and CloudWatch Logs need the key's own ARN): any
    # partition (aws, aws-cn, aws-us-gov, aws-iso...), a single-region key id (a UUID) or a
    # multi-Region key id (mrk- and 32 hex digits).
    condition     = var.kms_key_arn == null || can(regex("^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>, the key id a UUID or mrk-<32 hex digits>), not an alias or a key id alone, or null."
  }
}

variable "role_path" {
  description = "IAM path of the roles the module creates (\"/\" by default, as IAM's). Changing it replaces the roles (IAM cannot move a role): the functions are updated in place to the new roles."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    # IAM: a path is "/" or starts and ends with "/", printable ASCII, at most 512 characters.
    condition     = length(var.role_path) <= 512 && can(regex("^/([!-~]*/)?$", var.role_path))
    error_message = "role_path must be \"/\" or begin and end with \"/\" (printable ASCII, at most 512 characters), e.g. \"/deploy/\"."
  }
}

variable "role_names_include_region" {
  description = "false (default): the roles are <name_prefix>-trigger and <name_prefix>-recorder. true: <name_prefix>-trigger-<region> and <name_prefix>-recorder-<region>, so that the module can run in several regions of one account with the same name_prefix (IAM names are global; everything else the module names is regional). Changing it replaces the roles; the functions are updated in place."
  type        = bool
  default     = false
  nullable    = false
}

# --- Where the release zip comes from: a local file OR an S3 object (exactly one) ----------
# The "exactly one" rule is a precondition on both functions (lambda.tf): a variable validation
# may only refer to other variables from Terraform 1.9 on, and the module supports 1.5.

variable "lambda_zip_path" {
  description = "Path to a local release zip: codedeploy-trigger_<version>_linux_<amd64|arm64>.zip (a release asset, or built by `make package`). Nothing is downloaded at plan time. Leave null when the zip is in S3 (lambda_s3_bucket, lambda_s3_key), or to use the zip of var.architecture that the release's module archive (codedeploy-trigger-module_<version>.zip) bundles in dist/; a copy of the module from git has none."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || endswith(coalesce(var.lambda_zip_path, "-"), ".zip")
    error_message = "lambda_zip_path must point at a .zip file (a release asset or `make package`)."
  }
}

variable "lambda_s3_bucket" {
  description = "S3 bucket holding the release zip, for teams that keep artifacts in a bucket (instead of lambda_zip_path). Must be in the functions' region."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the release zip in lambda_s3_bucket, e.g. codedeploy-trigger/codedeploy-trigger_<version>_linux_arm64.zip. Terraform cannot hash a remote object: a new key (the version is in the file name) or a new lambda_s3_object_version is what updates the functions."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_key == null || endswith(coalesce(var.lambda_s3_key, "-"), ".zip")
    error_message = "lambda_s3_key must name a .zip object (the release asset's file name)."
  }
}

variable "lambda_s3_object_version" {
  description = "Version id of the zip object in a versioned bucket (optional). Set it when a key is overwritten in place: a new version id updates the functions."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Lambda instruction set: arm64 (cheaper) or x86_64. Must match the zip (_linux_arm64 / _linux_amd64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "runtime" {
  description = "Lambda Python runtime of both functions."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be python3.12, python3.13 or python3.14."
  }
}

# Every tunable below is checked at plan time with the rule the functions apply when they
# start (shared/config.py: a positive, finite number; the read interval between the fastest
# and the slowest read), so a bad value fails `terraform plan`, not the first deployment.
# tests/validation.tftest.hcl plans each bad value.

variable "memory_size" {
  description = "Memory (MB) of the trigger function. It mostly sleeps: it peaks near 52 MB, and 192 MB leaves 3.7x headroom while its CPU share (memory / 1769 MB of a vCPU) keeps a status read and the cold start's imports short (bench/results.md, cost section)."
  type        = number
  default     = 192

  validation {
    # Lambda: 128 MB to 10,240 MB in 1 MB steps (Lambda quotas, "Function configuration").
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240 (Lambda's range)."
  }
}

variable "recorder_memory_size" {
  description = "Memory (MB) of the recorder function (one DynamoDB write per event): 128, Lambda's minimum, is plenty."
  type        = number
  default     = 128

  validation {
    condition     = var.recorder_memory_size >= 128 && var.recorder_memory_size <= 10240 && floor(var.recorder_memory_size) == var.recorder_memory_size
    error_message = "recorder_memory_size must be a whole number of MB from 128 to 10240 (Lambda's range)."
  }
}

variable "timeout" {
  description = "Timeout (seconds) of the trigger function: the longest Terraform can wait for one deployment. Lambda's hard limit is 900; the minimum is deadline_margin_seconds + 2 * status_read_interval_seconds + 10."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds (the Lambda limit)."
  }
}

variable "recorder_timeout" {
  description = "Timeout (seconds) of the recorder function (one DynamoDB write per event). At least 20: the write's slowest outcome (3 attempts of 1 s connect + 3 s read, plus backoff: 15 s) and 5 s to spare, so a stalled table makes the recorder raise, and the event be retried, before Lambda would kill it."
  type        = number
  default     = 30

  validation {
    # 20 = shared/adapters/clients.py RECORDER_MIN_TIMEOUT_SECONDS (a unit test keeps them equal).
    condition     = var.recorder_timeout >= 20 && var.recorder_timeout <= 900
    error_message = "recorder_timeout must be between 20 and 900 seconds: below 20 the recorder's slowest DynamoDB write (15 s) and its 5 s margin do not fit."
  }
}

variable "recorder_allowed_event_origins" {
  description = "RECORDER_ALLOWED_EVENT_ORIGINS: origins besides its own account and region whose CodeDeploy events the recorder writes, for a central event bus that receives other accounts' events: ACCOUNT:REGION (123456789012:eu-west-1) or ACCOUNT (every region of it). Empty (default): only the module's own account and region; events from elsewhere are logged and dropped."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for origin in var.recorder_allowed_event_origins : can(regex("^[0-9]{12}(:[a-z]{2}(-[a-z]+)+-[0-9]+)?$", origin))
    ])
    error_message = "recorder_allowed_event_origins entries must be \"ACCOUNT:REGION\" (123456789012:eu-west-1) or \"ACCOUNT\" (123456789012)."
  }
}

variable "poll_interval_seconds" {
  description = "POLL_INTERVAL_SECONDS: GetDeployment interval without a usable status table (always, with status_tracking = false)."
  type        = number
  default     = 15
  nullable    = false

  validation {
    condition     = var.poll_interval_seconds > 0
    error_message = "poll_interval_seconds must be a positive number of seconds (fractions allowed), as the trigger requires of POLL_INTERVAL_SECONDS."
  }
}

variable "status_read_interval_seconds" {
  description = "STATUS_READ_INTERVAL_SECONDS: how often the trigger reads the status table without a group history, and the read budget's unit. Between 0.1 and 4: the trigger's fastest and slowest reads (STATUS_READ_MIN_INTERVAL_SECONDS, STATUS_READ_MAX_INTERVAL_SECONDS, left at their defaults)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    # shared/config.py: STATUS_READ_MIN_INTERVAL_SECONDS (0.1) <= this <= STATUS_READ_MAX_INTERVAL_SECONDS (4).
    condition     = var.status_read_interval_seconds >= 0.1 && var.status_read_interval_seconds <= 4
    error_message = "status_read_interval_seconds must be between 0.1 and 4 seconds: the trigger requires STATUS_READ_MIN_INTERVAL_SECONDS (0.1) <= STATUS_READ_INTERVAL_SECONDS <= STATUS_READ_MAX_INTERVAL_SECONDS (4)."
  }
}

variable "fallback_poll_interval_seconds" {
  description = "FALLBACK_POLL_INTERVAL_SECONDS: first interval of codedeploy:GetDeployment polling, the safety net for lost events."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.fallback_poll_interval_seconds > 0
    error_message = "fallback_poll_interval_seconds must be a positive number of seconds, as the trigger requires of FALLBACK_POLL_INTERVAL_SECONDS."
  }
}

variable "fallback_poll_max_interval_seconds" {
  description = "FALLBACK_POLL_MAX_INTERVAL_SECONDS: upper bound of the fallback polling backoff, at least fallback_poll_interval_seconds (checked at plan time). null (default): the function's default, 300 s or fallback_poll_interval_seconds if that is longer."
  type        = number
  default     = null

  validation {
    condition     = var.fallback_poll_max_interval_seconds == null || try(var.fallback_poll_max_interval_seconds > 0, false)
    error_message = "fallback_poll_max_interval_seconds must be null or a positive number of seconds."
  }
}

variable "deadline_margin_seconds" {
  description = "DEADLINE_MARGIN_SECONDS: stop waiting this long before the Lambda timeout so the function can answer instead of being killed."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deadline_margin_seconds > 0
    error_message = "deadline_margin_seconds must be a positive number of seconds, as the trigger requires of DEADLINE_MARGIN_SECONDS."
  }
}

variable "status_ttl_days" {
  description = "STATUS_TTL_DAYS: days a deployment status stays in the table (DynamoDB TTL on expiresAt)."
  type        = number
  default     = 30

  nullable = false

  validation {
    condition     = var.status_ttl_days > 0
    error_message = "status_ttl_days must be a positive number of days (fractions allowed), as both functions require of STATUS_TTL_DAYS."
  }
}

variable "idempotency_ttl_seconds" {
  description = "IDEMPOTENCY_TTL_SECONDS: how long a repeated identical invocation returns the first one's deployment instead of starting another."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.idempotency_ttl_seconds > 0
    error_message = "idempotency_ttl_seconds must be a positive number of seconds, as the trigger requires of IDEMPOTENCY_TTL_SECONDS."
  }
}

variable "terraform_key" {
  description = "TERRAFORM_KEY: the key aws_lambda_invocation adds with lifecycle_scope = \"CRUD\" (its terraform_key argument)."
  type        = string
  default     = "tf"
  nullable    = false

  validation {
    condition     = trimspace(var.terraform_key) != ""
    error_message = "terraform_key must not be empty, as the trigger requires of TERRAFORM_KEY (aws_lambda_invocation's default is \"tf\")."
  }
}

variable "include_log_tails" {
  description = "INCLUDE_LOG_TAILS: false leaves hook log tails out of the trigger's errors whatever the input's includeLogTails says. Tails are shown with common credential shapes masked; an error also lands in the trigger's log group (and X-Ray fault)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of both functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing_config mode of both functions: PassThrough (no traces unless the caller samples) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "codedeploy_application_names" {
  description = "CodeDeploy applications the trigger may deploy. [\"*\"] allows all of them; a list of names scopes the IAM policy and the EventBridge rule to them."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.codedeploy_application_names) > 0
    error_message = "codedeploy_application_names must not be empty (use [\"*\"] for all applications)."
  }
}

variable "ecs_diagnostics_cluster_arns" {
  description = "ECS clusters whose services and stopped tasks the trigger may read (ecs:DescribeServices, ListTasks, DescribeTasks) to explain a failed ECS deployment. Empty: no ECS permission; the failure message then says the ECS details are unavailable."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ecs_diagnostics_cluster_arns : can(regex("^arn:[^:]+:ecs:[^:]*:[0-9]*:cluster/.+$", arn))])
    error_message = "ecs_diagnostics_cluster_arns must hold ECS cluster ARNs (arn:<partition>:ecs:<region>:<account>:cluster/<name>)."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 30

  validation {
    condition = contains(
      [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
      var.log_retention_days,
    )
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long undeliverable CodeDeploy events stay in the dead-letter queue (SQS maximum: 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "event_max_age_seconds" {
  description = "EventBridge retry window for delivering an event to the recorder before it goes to the dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.event_max_age_seconds >= 60 && var.event_max_age_seconds <= 86400
    error_message = "event_max_age_seconds must be between 60 and 86400."
  }
}

variable "event_max_retry_attempts" {
  description = "EventBridge delivery retries to the recorder before the event goes to the dead-letter queue."
  type        = number
  default     = 185

  validation {
    condition     = var.event_max_retry_attempts >= 0 && var.event_max_retry_attempts <= 185
    error_message = "event_max_retry_attempts must be between 0 and 185."
  }
}

variable "table_deletion_protection" {
  description = "DynamoDB deletion protection of the status table. Off by default so that `terraform destroy` works; the table only holds short-lived state."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

# --- Removed: kept one release so that a module call still setting them is told why ----------

variable "codedeploy_service_role_arns" {
  description = "Removed: the trigger passes no role (CreateDeployment takes none), so it needs no iam:PassRole. Kept for one release only to say so; leave it unset."
  type        = list(string)
  default     = null

  validation {
    condition     = var.codedeploy_service_role_arns == null
    error_message = "codedeploy_service_role_arns was removed: CreateDeployment takes no role (CodeDeploy assumes the deployment group's own service role), so the trigger's role needs no iam:PassRole and nothing replaces this variable. Remove the argument from the module call."
  }
}
