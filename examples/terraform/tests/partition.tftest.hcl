# A plan in the China partition with the real aws provider, offline: no
# credentials are checked and no AWS API is called. The provider computes
# partitions and service principals from its own endpoint data, which is the
# point: a mocked provider would only echo what the test told it. The one data
# source that would call AWS (sts:GetCallerIdentity) is overridden.

provider "aws" {
  region                      = "cn-north-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

variables {
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

run "china_partition_plan" {
  command = plan

  assert {
    condition     = data.aws_partition.current.partition == "aws-cn"
    error_message = "cn-north-1 is in the aws-cn partition"
  }

  # Lambda and EventBridge keep the global names in aws-cn; CodeDeploy's ends in
  # .amazonaws.com.cn (examples/terraform-ecs-blue-green/tests). What matters is
  # that the module takes them from the provider, not from a literal.
  assert {
    condition     = data.aws_service_principal.lambda.name == "lambda.amazonaws.com" && data.aws_service_principal.events[0].name == "events.amazonaws.com"
    error_message = "the Lambda and EventBridge service principals in aws-cn are lambda.amazonaws.com and events.amazonaws.com"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.lambda_assume.json).Statement[0].Principal.Service == data.aws_service_principal.lambda.name
    error_message = "the functions' trust policy must name the partition's Lambda service principal"
  }

  assert {
    condition     = aws_lambda_permission.events[0].principal == data.aws_service_principal.events[0].name
    error_message = "the recorder's resource policy must name the partition's EventBridge service principal"
  }

  # The deployment groups the trigger may deploy to, as ARNs of the partition.
  assert {
    condition = [
      for s in data.aws_iam_policy_document.trigger.statement : s.resources
      if contains(s.actions, "codedeploy:CreateDeployment")
    ] == [toset(["arn:aws-cn:codedeploy:cn-north-1:123456789012:deploymentgroup:web/*"])]
    error_message = "CreateDeployment must be granted on the aws-cn ARNs of the applications' deployment groups"
  }
}

# kms_key_arn in aws-cn: a key ARN of the partition is accepted, and the key policy statement
# for CloudWatch Logs names its regional principal with the aws-cn suffix, as the provider's
# table has it (a mocked provider would only echo a value).
run "china_partition_kms_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [for s in jsondecode(output.kms_key_policy_statements_json) : s.Principal.Service] == [
      "logs.cn-north-1.amazonaws.com.cn", "events.amazonaws.com",
    ]
    error_message = "in aws-cn the key policy must allow logs.cn-north-1.amazonaws.com.cn and events.amazonaws.com"
  }

  assert {
    condition     = aws_cloudwatch_log_group.trigger.kms_key_id == var.kms_key_arn
    error_message = "the key must encrypt the trigger's log group"
  }
}
