# Plan-and-apply tests of the chain with a mocked aws provider: no credentials, no
# network, nothing created. `make tf-check` runs them (`terraform test`).

mock_provider "aws" {
  mock_resource "aws_lambda_invocation" {
    defaults = {
      result = "{\"deploymentId\": \"d-ABCDEFGHI\", \"status\": \"InProgress\", \"complete\": false}"
    }
  }
}

variables {
  function_name    = "trigger"
  max_wait_minutes = 29
  deployment = {
    applicationName     = "web"
    deploymentGroupName = "web-group"
    revision            = { revisionType = "AppSpecContent", appSpecContent = { content = "{}" } }
    includeLogTails     = false
  }
}

run "include_log_tails_follows_every_link" {
  command = apply

  assert {
    condition     = jsondecode(aws_lambda_invocation.link_1.input).includeLogTails == false
    error_message = "The first link must get includeLogTails from var.deployment."
  }
  assert {
    condition     = jsondecode(aws_lambda_invocation.link_2[0].input).includeLogTails == false
    error_message = "An attaching link may report the failure: it must get includeLogTails too."
  }
  assert {
    condition     = !contains(keys(jsondecode(aws_lambda_invocation.link_2[0].input)), "applicationName")
    error_message = "An attaching link carries no CreateDeployment key."
  }
}
