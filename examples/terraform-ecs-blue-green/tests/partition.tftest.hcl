# A plan of the whole example in the China partition with the real aws
# provider, offline: no credentials are checked and no AWS API is called. The
# provider computes service principals from its own endpoint data; a mocked
# provider would only echo what the test told it. The data sources that would
# call AWS are overridden.

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
  target = data.aws_availability_zones.available
  values = { names = ["cn-north-1a", "cn-north-1b"] }
}

override_data {
  target = module.trigger.data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

variables {
  region          = "cn-north-1"
  lambda_zip_path = "../terraform/tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
}

run "china_partition_plan" {
  command = plan

  # CodeDeploy's service principal in aws-cn is not codedeploy.amazonaws.com.
  assert {
    condition     = data.aws_service_principal.codedeploy.name == "codedeploy.amazonaws.com.cn"
    error_message = "CodeDeploy's service principal in aws-cn is codedeploy.amazonaws.com.cn"
  }

  assert {
    condition     = endswith(jsondecode(data.aws_iam_policy_document.codedeploy_assume.json).Statement[0].Principal.Service, ".amazonaws.com.cn")
    error_message = "CodeDeploy's service role must trust the aws-cn principal (….amazonaws.com.cn), or CodeDeploy cannot assume it"
  }

  assert {
    condition     = aws_iam_role_policy_attachment.codedeploy.policy_arn == "arn:aws-cn:iam::aws:policy/AWSCodeDeployRoleForECS"
    error_message = "the managed policy ARN must be in the aws-cn partition"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.ecs_tasks_assume.json).Statement[0].Principal.Service == data.aws_service_principal.ecs_tasks.name
    error_message = "the task execution role must trust the partition's ECS tasks principal"
  }
}
