data "aws_partition" "current" {}

locals {
  container_name = "app"
}

resource "aws_ecs_cluster" "main" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_158:Example web server logs; CloudWatch Logs encrypts them at rest by default.
  #checkov:skip=CKV_AWS_338:Example: 30 days (var.log_retention_days) is enough for a demo service.
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_service_principal" "ecs_tasks" {
  service_name = "ecs-tasks"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.ecs_tasks.name]
    }
  }
}

# Used by the ECS agent to pull the image and ship the logs.
resource "aws_iam_role" "task_execution" {
  name               = "${var.name}-task-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "task_execution" {
  role       = aws_iam_role.task_execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# Every change here makes a new revision (a new ARN), which changes the
# appspec and so runs a blue/green deployment (deploy.tf).
resource "aws_ecs_task_definition" "app" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.task_execution.arn

  container_definitions = jsonencode([
    {
      name      = local.container_name
      image     = var.image
      essential = true
      portMappings = [
        { containerPort = var.container_port, protocol = "tcp" },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = var.region
          awslogs-stream-prefix = local.container_name
        }
      }
    },
  ])
}

resource "aws_ecs_service" "app" {
  #checkov:skip=CKV_AWS_333:No NAT gateway in the example, so the tasks need public IPs to pull the image; their security group only admits the load balancer.
  name            = var.name
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  # CodeDeploy, not ECS, rolls out new task definitions.
  deployment_controller {
    type = "CODE_DEPLOY"
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app["blue"].arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  network_configuration {
    subnets          = aws_subnet.public[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = true
  }

  health_check_grace_period_seconds = 30
  propagate_tags                    = "SERVICE"

  # CodeDeploy owns both after the first deployment: it moves the service to
  # each new task definition and swaps the target groups. Terraform must not
  # put them back.
  lifecycle {
    ignore_changes = [task_definition, load_balancer]
  }

  # A target group must be attached to a listener before a service uses it.
  depends_on = [aws_lb_listener.production, aws_lb_listener.test]
}
