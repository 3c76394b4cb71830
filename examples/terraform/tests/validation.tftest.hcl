# Every tunable is checked at plan time with the rule the functions apply at start
# (shared/config.py) or the limit AWS applies: each run below plans one bad value and expects
# that variable's validation to fail the plan. Nothing is created (mocked provider).

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
  lambda_zip_path              = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
  architecture                 = "arm64"
  codedeploy_application_names = ["web"]
}

# The edges the functions accept are accepted here too.
run "the_edges_of_each_range_are_accepted" {
  command = plan

  variables {
    memory_size                        = 10240
    recorder_memory_size               = 128
    poll_interval_seconds              = 0.5
    status_read_interval_seconds       = 4
    fallback_poll_interval_seconds     = 30
    fallback_poll_max_interval_seconds = 30
    deadline_margin_seconds            = 0.5
    status_ttl_days                    = 0.5
    idempotency_ttl_seconds            = 1
  }

  assert {
    condition     = aws_lambda_function.trigger.environment[0].variables["STATUS_READ_INTERVAL_SECONDS"] == "4" && aws_lambda_function.trigger.environment[0].variables["POLL_INTERVAL_SECONDS"] == "0.5"
    error_message = "values at the edges of the functions' ranges must reach the trigger"
  }

  assert {
    condition     = aws_lambda_function.recorder[0].memory_size == 128 && aws_lambda_function.trigger.memory_size == 10240
    error_message = "memory_size and recorder_memory_size must reach the functions"
  }
}

run "the_fastest_read_is_accepted" {
  command = plan

  variables {
    status_read_interval_seconds = 0.1
  }
}

run "memory_size_below_lambdas_minimum" {
  command = plan

  variables {
    memory_size = 127
  }

  expect_failures = [var.memory_size]
}

run "memory_size_above_lambdas_maximum" {
  command = plan

  variables {
    memory_size = 10241
  }

  expect_failures = [var.memory_size]
}

run "memory_size_not_whole" {
  command = plan

  variables {
    memory_size = 192.5
  }

  expect_failures = [var.memory_size]
}

run "recorder_memory_size_below_lambdas_minimum" {
  command = plan

  variables {
    recorder_memory_size = 64
  }

  expect_failures = [var.recorder_memory_size]
}

run "timeout_zero" {
  command = plan

  variables {
    timeout = 0
  }

  expect_failures = [var.timeout]
}

run "timeout_above_lambdas_limit" {
  command = plan

  variables {
    timeout = 901
  }

  expect_failures = [var.timeout]
}

run "recorder_timeout_above_lambdas_limit" {
  command = plan

  variables {
    recorder_timeout = 901
  }

  expect_failures = [var.recorder_timeout]
}

run "poll_interval_zero" {
  command = plan

  variables {
    poll_interval_seconds = 0
  }

  expect_failures = [var.poll_interval_seconds]
}

run "poll_interval_negative" {
  command = plan

  variables {
    poll_interval_seconds = -5
  }

  expect_failures = [var.poll_interval_seconds]
}

run "status_read_interval_below_the_fastest_read" {
  command = plan

  variables {
    status_read_interval_seconds = 0.05
  }

  expect_failures = [var.status_read_interval_seconds]
}

run "status_read_interval_above_the_slowest_read" {
  command = plan

  variables {
    status_read_interval_seconds = 4.5
  }

  expect_failures = [var.status_read_interval_seconds]
}

run "fallback_poll_interval_zero" {
  command = plan

  variables {
    fallback_poll_interval_seconds = 0
  }

  expect_failures = [var.fallback_poll_interval_seconds]
}

run "fallback_poll_max_interval_zero" {
  command = plan

  variables {
    fallback_poll_max_interval_seconds = 0
  }

  expect_failures = [var.fallback_poll_max_interval_seconds]
}

run "deadline_margin_zero" {
  command = plan

  variables {
    deadline_margin_seconds = 0
  }

  expect_failures = [var.deadline_margin_seconds]
}

run "status_ttl_days_zero" {
  command = plan

  variables {
    status_ttl_days = 0
  }

  expect_failures = [var.status_ttl_days]
}

run "idempotency_ttl_zero" {
  command = plan

  variables {
    idempotency_ttl_seconds = 0
  }

  expect_failures = [var.idempotency_ttl_seconds]
}

run "terraform_key_blank" {
  command = plan

  variables {
    terraform_key = "  "
  }

  expect_failures = [var.terraform_key]
}

run "log_level_unknown" {
  command = plan

  variables {
    log_level = "VERBOSE"
  }

  expect_failures = [var.log_level]
}

run "tracing_mode_unknown" {
  command = plan

  variables {
    tracing_mode = "On"
  }

  expect_failures = [var.tracing_mode]
}

run "architecture_unknown" {
  command = plan

  variables {
    architecture = "arm"
  }

  expect_failures = [var.architecture]
}

run "runtime_unsupported" {
  command = plan

  variables {
    runtime = "python3.9"
  }

  expect_failures = [var.runtime]
}

run "log_retention_days_not_a_cloudwatch_value" {
  command = plan

  variables {
    log_retention_days = 2
  }

  expect_failures = [var.log_retention_days]
}

run "dlq_retention_below_sqs_minimum" {
  command = plan

  variables {
    dlq_message_retention_seconds = 59
  }

  expect_failures = [var.dlq_message_retention_seconds]
}

run "event_max_age_above_eventbridges_maximum" {
  command = plan

  variables {
    event_max_age_seconds = 86401
  }

  expect_failures = [var.event_max_age_seconds]
}

run "event_max_retries_above_eventbridges_maximum" {
  command = plan

  variables {
    event_max_retry_attempts = 186
  }

  expect_failures = [var.event_max_retry_attempts]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "a-name-prefix-that-is-longer-than-forty-chars"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_bad_characters" {
  command = plan

  variables {
    name_prefix = "has spaces"
  }

  expect_failures = [var.name_prefix]
}

run "application_names_empty" {
  command = plan

  variables {
    codedeploy_application_names = []
  }

  expect_failures = [var.codedeploy_application_names]
}

run "ecs_cluster_not_an_arn" {
  command = plan

  variables {
    ecs_diagnostics_cluster_arns = ["web"]
  }

  expect_failures = [var.ecs_diagnostics_cluster_arns]
}

run "event_origin_region_first" {
  command = plan

  variables {
    recorder_allowed_event_origins = ["eu-west-1:123456789012"]
  }

  expect_failures = [var.recorder_allowed_event_origins]
}

run "lambda_zip_not_a_zip" {
  command = plan

  variables {
    lambda_zip_path = "tests/release.tar.gz"
  }

  expect_failures = [var.lambda_zip_path]
}

# Two variables at once: a precondition of the trigger function (Terraform 1.5 has no
# cross-variable validation).
run "fallback_cap_below_the_interval" {
  command = plan

  variables {
    fallback_poll_interval_seconds     = 60
    fallback_poll_max_interval_seconds = 30
  }

  expect_failures = [aws_lambda_function.trigger]
}

# A removed variable still set: its validation says what happened and what to do.
run "removed_codedeploy_service_role_arns" {
  command = plan

  variables {
    codedeploy_service_role_arns = ["arn:aws:iam::123456789012:role/codedeploy"]
  }

  expect_failures = [var.codedeploy_service_role_arns]
}
