# kms_key_arn: the module uses a customer managed key it does not own. Its roles get their own
# grants (iam.tf); two AWS services use the key as their service principal, which only the
# key policy can allow. These are the statements to add to it (output
# kms_key_policy_statements_json), rendered whether or not kms_key_arn is set, so that the key
# policy can be ready before the key is given. In a key policy, Resource "*" is the key itself.

# CloudWatch Logs' principal is regional, and its suffix is not always the partition's DNS
# suffix: the provider's table (data "aws_service_principal", taken from the AWS CDK's region
# information) has it. Its id is <service>.<region>.<suffix>; its name is the global form.
data "aws_service_principal" "logs" {
  service_name = "logs"
}

locals {
  # The log group ARNs without the ":*" suffix: the form CloudWatch Logs puts in the encryption
  # context. Built from the names, so they are known before the groups exist.
  kms_log_group_arns = [
    for name in concat([local.trigger_name], var.status_tracking ? [local.recorder_name] : []) :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${name}"
  ]

  kms_key_policy_statements = concat(
    [
      # CloudWatch Logs encrypts and decrypts a log group's data as the regional service
      # principal logs.<region>.<suffix> (logs.eu-west-1.amazonaws.com; .amazonaws.com.cn in
      # aws-cn): the principal and the actions of the CloudWatch Logs user guide, "Encrypt log
      # data in CloudWatch Logs using AWS Key Management Service", step 2, limited to these log
      # groups by the encryption context it passes (kms:EncryptionContext:aws:logs:arn).
      {
        Sid       = "CloudWatchLogsCodeDeployTrigger"
        Effect    = "Allow"
        Principal = { Service = data.aws_service_principal.logs.id }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource  = "*"
        Condition = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.kms_log_group_arns } }
      },
    ],
    # EventBridge sends the events it could not deliver to the recorder to the dead-letter
    # queue as its service principal: with an SSE-KMS queue the key policy must let it generate
    # and decrypt data keys (Amazon SQS developer guide, "Amazon SQS Key management",
    # "Configure KMS permissions for AWS services": kms:GenerateDataKey and kms:Decrypt;
    # EventBridge user guide, "Using dead-letter queues to process undelivered events"), for
    # this rule only (aws:SourceArn).
    var.status_tracking ? [
      {
        Sid       = "EventBridgeCodeDeployTriggerDeadLetters"
        Effect    = "Allow"
        Principal = { Service = data.aws_service_principal.events[0].name }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "aws:SourceArn" = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name_prefix}-deployment-state"
          }
        }
      },
    ] : [],
  )
}
