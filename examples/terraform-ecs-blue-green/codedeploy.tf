resource "aws_codedeploy_app" "app" {
  name             = var.name
  compute_platform = "ECS"
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

# CodeDeploy's service role: it creates task sets, moves listeners and
# invokes hooks. CodeDeploy assumes it itself; the trigger never passes it
# (CreateDeployment takes no role).
resource "aws_iam_role" "codedeploy" {
  name               = "${var.name}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSCodeDeployRoleForECS"
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

  blue_green_deployment_config {
    # Without the Ready gate, no manual approval step: CodeDeploy shifts the
    # traffic as soon as the replacement tasks are up. With it, the group holds
    # the deployment at Ready until the chain's continue link (after the check,
    # deploy.tf) or, after ready_wait_minutes, stops it. wait_time_in_minutes
    # "applies only to the STOP_DEPLOYMENT option for actionOnTimeout" (AWS
    # CodeDeploy API Reference, DeploymentReadyOption:
    # https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentReadyOption.html).
    deployment_ready_option {
      action_on_timeout    = var.ready_gate ? "STOP_DEPLOYMENT" : "CONTINUE_DEPLOYMENT"
      wait_time_in_minutes = var.ready_gate ? var.ready_wait_minutes : null
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_time_in_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE"]
  }

  ecs_service {
    cluster_name = aws_ecs_cluster.main.name
    service_name = aws_ecs_service.app.name
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [aws_lb_listener.production.arn]
      }

      test_traffic_route {
        listener_arns = [aws_lb_listener.test.arn]
      }

      target_group {
        name = aws_lb_target_group.app["blue"].name
      }

      target_group {
        name = aws_lb_target_group.app["green"].name
      }
    }
  }

  # CodeDeploy checks the role's permissions when the group is created.
  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}
