# A small self-contained VPC: two public subnets in two zones for the load
# balancer and the tasks. No NAT gateway: tasks get public IPs to pull the
# image, and their security group only admits the load balancer.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first two zones by name are used (local.azs), so a zone AWS adds later does not change the subnets.
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "main" {
  #checkov:skip=CKV2_AWS_11:Throw-away example VPC; flow logs would add a log group, a role and cost. Use your own VPC (with flow logs) in production.
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# Take every rule away from the VPC's default security group so nothing uses
# it by accident.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = length(local.azs)

  vpc_id            = aws_vpc.main.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  # Tasks ask for a public IP themselves (assign_public_ip); nothing else
  # launched here should get one.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public-${local.azs[count.index]}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count = length(aws_subnet.public)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

locals {
  test_listener_cidr_blocks = length(var.test_listener_cidr_blocks) > 0 ? var.test_listener_cidr_blocks : [var.vpc_cidr]
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV_AWS_260:The production listener is the public web endpoint of the example; narrow it with var.allowed_cidr_blocks.
  name        = "${var.name}-alb"
  description = "Load balancer of ${var.name}: HTTP in, container port out to the VPC."
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "Production listener"
    protocol    = "tcp"
    from_port   = 80
    to_port     = 80
    cidr_blocks = var.allowed_cidr_blocks
  }

  ingress {
    description = "Test listener (replacement tasks during a deployment)"
    protocol    = "tcp"
    from_port   = 8080
    to_port     = 8080
    cidr_blocks = local.test_listener_cidr_blocks
  }

  egress {
    description = "To the tasks"
    protocol    = "tcp"
    from_port   = var.container_port
    to_port     = var.container_port
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: container port from the load balancer only, HTTPS out."
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "From the load balancer"
    protocol        = "tcp"
    from_port       = var.container_port
    to_port         = var.container_port
    security_groups = [aws_security_group.alb.id]
  }

  egress {
    description = "HTTPS to the image registry and CloudWatch Logs"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
}
