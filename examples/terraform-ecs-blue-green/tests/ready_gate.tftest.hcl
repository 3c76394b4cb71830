# Plans of the example with and without the Ready gate, offline with the real
# aws provider (as partition.tftest.hcl): what the group does at Ready and
# which resources deploy. The plan also proves the gate makes no cycle: the
# smoke test reads module.deployment[0].ready and feeds the same module's
# ready_check.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

override_data {
  target = data.aws_availability_zones.available
  values = { names = ["us-east-1a", "us-east-1b"] }
}

override_data {
  target = module.trigger.data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

variables {
  lambda_zip_path = "../terraform/tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
}

run "without_the_gate_one_invocation_deploys" {
  command = plan

  assert {
    condition     = length(aws_lambda_invocation.deploy) == 1 && length(module.deployment) == 0 && length(terraform_data.smoke_test) == 0
    error_message = "without ready_gate the one aws_lambda_invocation.deploy deploys, and neither the chain nor the smoke test exists"
  }

  assert {
    condition     = one(aws_codedeploy_deployment_group.app.blue_green_deployment_config[0].deployment_ready_option[*].action_on_timeout) == "CONTINUE_DEPLOYMENT"
    error_message = "without ready_gate CodeDeploy must shift the traffic by itself (CONTINUE_DEPLOYMENT): nothing would continue a deployment held at Ready"
  }
}

run "with_the_gate_the_group_holds_ready_and_the_chain_deploys" {
  command = plan

  variables {
    ready_gate                = true
    ready_wait_minutes        = 30
    test_listener_cidr_blocks = ["203.0.113.7/32"]
  }

  assert {
    condition     = length(aws_lambda_invocation.deploy) == 0 && length(module.deployment) == 1 && length(terraform_data.smoke_test) == 1
    error_message = "with ready_gate the chain module deploys and the smoke test runs; the plain invocation must not start a second deployment"
  }

  assert {
    condition     = one(aws_codedeploy_deployment_group.app.blue_green_deployment_config[0].deployment_ready_option[*].action_on_timeout) == "STOP_DEPLOYMENT"
    error_message = "the gate needs the group to hold the deployment at Ready (STOP_DEPLOYMENT), or CodeDeploy shifts the traffic before the check"
  }

  assert {
    condition     = one(aws_codedeploy_deployment_group.app.blue_green_deployment_config[0].deployment_ready_option[*].wait_time_in_minutes) == 30
    error_message = "the group's Ready wait must be ready_wait_minutes"
  }
}

run "a_ready_check_command_replaces_the_default_check" {
  command = plan

  variables {
    ready_gate          = true
    ready_check_command = "./smoke-test.sh"
  }

  assert {
    condition     = local.ready_check_command == "./smoke-test.sh"
    error_message = "ready_check_command must be the command the smoke test runs"
  }
}

run "the_default_check_warns_when_the_test_listener_admits_the_vpc_only" {
  command = plan

  variables {
    ready_gate = true
  }

  # A check block's failure is a warning in plan and apply; terraform test
  # counts it as a failure unless it is expected.
  expect_failures = [check.ready_check_reaches_the_test_listener]
}
