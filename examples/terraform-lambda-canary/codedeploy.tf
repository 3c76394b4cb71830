resource "aws_codedeploy_app" "app" {
  name             = var.name
  compute_platform = "Lambda"
}

# codedeploy.amazonaws.com.cn in aws-cn: the provider knows each partition's name.
data "aws_service_principal" "codedeploy" {
  service_name = "codedeploy"
}

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.codedeploy.name]
    }
  }
}

# CodeDeploy's service role: it moves the alias, invokes the CodeDeployHook_* functions and
# reads the alarm. The trigger never passes it (CreateDeployment takes no role).
resource "aws_iam_role" "codedeploy" {
  name               = "${var.name}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
}

# Errors of the alias during the shift stop the deployment; CodeDeploy then moves all traffic
# back to the version the alias served before.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-${var.alias_name}-errors"
  alarm_description   = "Errors of ${var.name}:${var.alias_name}: stops and rolls back a CodeDeploy traffic shift."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    FunctionName = aws_lambda_function.app.function_name
    Resource     = "${aws_lambda_function.app.function_name}:${aws_lambda_alias.live.name}"
  }
}

resource "aws_codedeploy_deployment_group" "app" {
  app_name               = aws_codedeploy_app.app.name
  deployment_group_name  = var.name
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = var.deployment_config_name

  deployment_style {
    deployment_option = "WITH_TRAFFIC_CONTROL"
    deployment_type   = "BLUE_GREEN"
  }

  alarm_configuration {
    enabled = true
    alarms  = [aws_cloudwatch_metric_alarm.errors.alarm_name]
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  # CodeDeploy checks the role when the group is created.
  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}
