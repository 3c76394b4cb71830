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
}

# Terraform has no aws_codedeploy_deployment resource: this invocation is
# one. Apply calls the trigger, which starts the deployment and waits for its
# end; a Failed or Stopped deployment fails the apply.
resource "aws_lambda_invocation" "deploy" {
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

  input = jsonencode({
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
    wait        = true
    # On failure, wait for CodeDeploy's rollback and say whether it restored service.
    waitForRollback = true
    autoRollbackConfiguration = {
      enabled = true
      events  = ["DEPLOYMENT_FAILURE"]
    }
  })

  # The event rule, its target and the Lambda permission must exist before
  # the deployment starts, or its first events are missed (the trigger would
  # still see the end by polling, only later).
  depends_on = [module.trigger]
}
