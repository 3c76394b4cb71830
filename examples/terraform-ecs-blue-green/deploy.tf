# The trigger and recorder functions, the status table and the event rule.
module "trigger" {
  source = "../terraform"

  name_prefix                  = var.name
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = var.lambda_architecture
  codedeploy_application_names = [aws_codedeploy_app.app.name]
  # A failed deployment's error then shows the replacement tasks' stop reasons.
  ecs_diagnostics_cluster_arns = [aws_ecs_cluster.main.arn]
}

locals {
  # AppSpec of an ECS deployment: which task definition to run and which
  # container and port the load balancer sends traffic to.
  appspec = jsonencode({
    version = "0.0"
    Resources = [
      {
        TargetService = {
          Type = "AWS::ECS::Service"
          Properties = {
            TaskDefinition = aws_ecs_task_definition.app.arn
            LoadBalancerInfo = {
              ContainerName = local.container_name
              ContainerPort = var.container_port
            }
          }
        }
      },
    ]
  })

  # The CreateDeployment request, the same with or without the Ready gate.
  deployment_request = {
    applicationName     = aws_codedeploy_app.app.name
    deploymentGroupName = aws_codedeploy_deployment_group.app.deployment_group_name
    revision = {
      revisionType = "AppSpecContent"
      appSpecContent = {
        content = local.appspec
        sha256  = sha256(local.appspec)
      }
    }
    description = "terraform: ${aws_ecs_task_definition.app.family}:${aws_ecs_task_definition.app.revision}"
    autoRollbackConfiguration = {
      enabled = true
      events  = ["DEPLOYMENT_FAILURE"]
    }
  }
}

# Terraform has no aws_codedeploy_deployment resource: this invocation is
# one. Apply calls the trigger, which starts the deployment and waits for its
# end; a Failed or Stopped deployment fails the apply. With ready_gate the
# chain module below deploys instead (count 0 here). The state of an apply
# made before count was added moves to aws_lambda_invocation.deploy[0] by
# itself (Terraform does that for a resource that gains count): no new
# deployment.
resource "aws_lambda_invocation" "deploy" {
  count = var.ready_gate ? 0 : 1

  function_name = module.trigger.trigger_function_name

  # CREATE_ONLY (the provider's default, written out to say it is chosen):
  # any change of input or triggers replaces this resource, so every
  # deployment is a create. A failed create is not saved in the state, so the
  # next apply tries again; destroy invokes nothing. (With "CRUD" a failed
  # update is saved anyway and never retried: terraform-provider-aws #43447.)
  lifecycle_scope = "CREATE_ONLY"

  # A new task definition revision replaces this resource: a new deployment.
  triggers = {
    task_definition = aws_ecs_task_definition.app.arn
  }

  # jsonencode sorts the keys: the same input, byte for byte, as when the
  # request was written out in this resource (no replacement on upgrade).
  input = jsonencode(merge(local.deployment_request, {
    wait = true
    # On failure, wait for CodeDeploy's rollback and say whether it restored service.
    waitForRollback = true
  }))

  # The event rule, its target and the Lambda permission must exist before
  # the deployment starts, or its first events are missed (the trigger would
  # still see the end by polling, only later).
  depends_on = [module.trigger]
}

# --- the Ready gate (ready_gate = true) --------------------------------------
#
# The chain module creates the deployment and waits until it is Ready (its
# output `ready`); the smoke test below runs against the test listener; only
# after it succeeded does the module continue the deployment
# (ContinueDeployment READY_WAIT) and wait until it Succeeded. A failing check
# fails the apply and leaves the deployment in Ready, production traffic
# untouched (README.md, "Ready gate", for the ways out).
module "deployment" {
  source = "../terraform/modules/deployment"
  count  = var.ready_gate ? 1 : 0

  function_name            = module.trigger.trigger_function_name
  function_timeout_seconds = module.trigger.trigger_timeout_seconds
  deadline_margin_seconds  = module.trigger.deadline_margin_seconds

  deployment = local.deployment_request
  triggers = {
    task_definition = aws_ecs_task_definition.app.arn
  }
  wait_for_rollback = true

  ready_gate  = true
  ready_check = one(terraform_data.smoke_test[*].output)

  # The event rule must exist before the deployment starts (as above); the
  # trigger continues only a deployment its status table says it created.
  depends_on = [module.trigger]
}

locals {
  # Against the test listener, which serves the replacement tasks while the
  # deployment is held at Ready.
  ready_check_command = coalesce(
    var.ready_check_command,
    "curl --fail --silent --show-error --retry 5 --retry-all-errors --max-time 10 http://${aws_lb.app.dns_name}:${aws_lb_listener.test.port}/",
  )
}

resource "terraform_data" "smoke_test" {
  count = var.ready_gate ? 1 : 0

  # Reading `ready` makes this run once the deployment is Ready. A provisioner
  # runs on create only and a change of `input` is an in-place update, so the
  # deployment id is in triggers_replace too: every new deployment replaces
  # this resource and is checked. A failing command taints it: the next apply
  # checks again.
  triggers_replace = module.deployment[0].ready.deploymentId
  input            = module.deployment[0].ready.deploymentId

  provisioner "local-exec" {
    command = local.ready_check_command
    # The deployment being checked, for a command that wants to say which.
    environment = {
      DEPLOYMENT_ID = module.deployment[0].ready.deploymentId
    }
  }
}

# The default check runs where Terraform runs, and the test listener admits the
# VPC only unless test_listener_cidr_blocks says otherwise.
check "ready_check_reaches_the_test_listener" {
  assert {
    condition     = !var.ready_gate || var.ready_check_command != null || length(var.test_listener_cidr_blocks) > 0
    error_message = "ready_gate = true with the default ready_check_command: curl runs on the machine running Terraform, and the test listener (port 8080) admits the VPC only. Add that machine's address to test_listener_cidr_blocks, or set ready_check_command to a check that runs inside the VPC."
  }
}
