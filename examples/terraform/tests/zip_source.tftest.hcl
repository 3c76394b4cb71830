# Where the functions' zip comes from, at plan time with a mocked aws provider.
# A copy of the module from git (this directory) bundles no zip in dist/: only the
# release's module archive does. Without lambda_zip_path or an S3 object the plan
# must stop at the trigger's precondition instead of creating functions without code.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { id = "eu-west-1", name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}", minified_json = "{}" }
  }
}

variables {
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

run "no_zip_and_nothing_bundled_is_refused" {
  command = plan

  expect_failures = [aws_lambda_function.trigger, aws_lambda_function.recorder]
}

run "a_given_zip_needs_no_bundled_one" {
  command = plan

  variables {
    lambda_zip_path = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  }

  assert {
    condition     = aws_lambda_function.trigger.filename == "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
    error_message = "The given lambda_zip_path must be the functions' code."
  }
}

run "a_zip_in_s3_needs_no_bundled_one" {
  command = plan

  variables {
    lambda_s3_bucket = "artifacts"
    lambda_s3_key    = "codedeploy-trigger/codedeploy-trigger_0.1.0_linux_arm64.zip"
  }

  assert {
    condition     = aws_lambda_function.trigger.filename == null && aws_lambda_function.trigger.s3_key == "codedeploy-trigger/codedeploy-trigger_0.1.0_linux_arm64.zip"
    error_message = "A zip in S3 must be the functions' code, with no local file."
  }
}
