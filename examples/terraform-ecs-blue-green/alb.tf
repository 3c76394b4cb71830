# Two target groups: CodeDeploy starts the replacement tasks in the one that
# carries no traffic, tests them through the test listener, then moves the
# production listener over. Which is "blue" changes with every deployment.

resource "aws_lb" "app" {
  #checkov:skip=CKV_AWS_150:Deletion protection off so that `terraform destroy` cleans the example up.
  #checkov:skip=CKV_AWS_91:Access logs need an S3 bucket with a bucket policy; left out of the example.
  #checkov:skip=CKV2_AWS_28:A WAF web ACL is out of scope of a deployment example.
  #checkov:skip=CKV2_AWS_20:No domain or certificate in the example, so no HTTPS listener to redirect to.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  enable_deletion_protection = false
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:HTTP from the load balancer to the tasks stays inside the VPC; the example image has no certificate to serve TLS.
  for_each = toset(["blue", "green"])

  name                 = "${var.name}-${each.key}"
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = var.container_port
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    path                = "/"
    matcher             = "200-399"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "production" {
  #checkov:skip=CKV_AWS_2:No domain or certificate in the example; put an HTTPS listener here in production.
  #checkov:skip=CKV_AWS_103:No TLS listener in the example (see CKV_AWS_2).
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app["blue"].arn
  }

  # CodeDeploy switches the target group at each deployment.
  lifecycle {
    ignore_changes = [default_action]
  }
}

resource "aws_lb_listener" "test" {
  #checkov:skip=CKV_AWS_2:Test listener for the replacement tasks, open to the VPC only by default; no certificate in the example.
  #checkov:skip=CKV_AWS_103:No TLS listener in the example (see CKV_AWS_2).
  load_balancer_arn = aws_lb.app.arn
  port              = 8080
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app["blue"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}
