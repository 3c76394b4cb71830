resource "aws_codedeploy_app" "app" {
  name             = var.name
  compute_platform = "Server"
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

# CodeDeploy's service role: it reads the group's instances and Auto Scaling group and
# suspends the processes of ec2DeploymentOptions. The trigger never passes it.
resource "aws_iam_role" "codedeploy" {
  name               = "${var.name}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSCodeDeployRole"
}

# In-place: the agent on each instance stops the application, installs the revision and starts
# it, a batch of instances at a time (the deployment's configuration, deploy.tf).
resource "aws_codedeploy_deployment_group" "app" {
  app_name              = aws_codedeploy_app.app.name
  deployment_group_name = var.name
  service_role_arn      = aws_iam_role.codedeploy.arn
  autoscaling_groups    = [aws_autoscaling_group.app.name]

  deployment_style {
    deployment_option = "WITHOUT_TRAFFIC_CONTROL"
    deployment_type   = "IN_PLACE"
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE"]
  }

  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}
