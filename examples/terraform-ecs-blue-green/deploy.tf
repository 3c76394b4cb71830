# The trigger and recorder functions, the status table and the event rule.
module "trigger" {
  source = "../terraform"

  name_prefix                  = var.name
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = var.lambda_architecture
  codedeploy_application_names = [aws_codedeploy_app.app.name]
  codedeploy_service_role_arns = [aws_iam_role.codedeploy.arn]
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

  # CRUD: the function is told what Terraform is doing (input.tf = {action,
  # prev_input}). create and update start a deployment; delete, sent on
  # `terraform destroy` and as the first half of a replacement, is answered
  # with {"status": "Skipped"} and starts nothing: tearing the stack down or
  # replacing this resource never deploys by itself.
  lifecycle_scope = "CRUD"

  # A new task definition revision replaces this resource: delete (skipped),
  # then create (deploys the new revision).
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
