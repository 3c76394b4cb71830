# The trigger and recorder functions, the status table and the event rule.
module "trigger" {
  source = "../terraform"

  name_prefix                  = var.name
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = var.lambda_architecture
  codedeploy_application_names = [aws_codedeploy_app.app.name]
}

locals {
  # The version the alias serves now (read back from Lambda on every plan: CodeDeploy moves it)
  # and the version just published.
  current_version = aws_lambda_alias.live.function_version
  target_version  = aws_lambda_function.app.version

  # AppSpec of a Lambda deployment (CodeDeploy user guide, "AppSpec 'resources' section" and
  # "AppSpec 'hooks' section"): which alias moves from which version to which, and the
  # validation functions run before and after the traffic moves.
  appspec = jsonencode({
    version = "0.0"
    Resources = [
      {
        (var.name) = {
          Type = "AWS::Lambda::Function"
          Properties = {
            Name           = aws_lambda_function.app.function_name
            Alias          = aws_lambda_alias.live.name
            CurrentVersion = local.current_version
            TargetVersion  = local.target_version
          }
        }
      },
    ]
    Hooks = [for event, hook in aws_lambda_function.hook : { (event) = hook.function_name }]
  })

  deployment = merge(
    {
      applicationName     = aws_codedeploy_app.app.name
      deploymentGroupName = aws_codedeploy_deployment_group.app.deployment_group_name
      revision = {
        revisionType = "AppSpecContent"
        appSpecContent = {
          content = local.appspec
          sha256  = sha256(local.appspec)
        }
      }
      description = "terraform: ${aws_lambda_function.app.function_name} version ${local.current_version} -> ${local.target_version}"
      wait        = true
      # On failure, wait for CodeDeploy's rollback and say whether it restored the old version.
      waitForRollback = true
    },
    # The first apply publishes version 1 and points the alias at it: CodeDeploy refuses a
    # canary or linear shift between two equal versions, so that one deployment (which still
    # runs the hooks against version 1) shifts all at once.
    local.current_version == local.target_version ? {
      deploymentConfigName = "CodeDeployDefault.LambdaAllAtOnce"
    } : {},
  )
}

# Terraform has no aws_codedeploy_deployment resource: this invocation is one. It is replaced,
# so a deployment starts, when the function publishes a new version; apply fails when the
# deployment fails (a failed hook, or the alarm: CodeDeploy then moves the alias back).
resource "aws_lambda_invocation" "deploy" {
  function_name = module.trigger.trigger_function_name

  # CREATE_ONLY (the provider's default, written out to say it is chosen): a change of triggers
  # replaces this resource, so every deployment is a create; a failed create is not saved, so
  # the next apply tries again; destroy invokes nothing.
  lifecycle_scope = "CREATE_ONLY"

  triggers = {
    target_version = local.target_version
  }

  input = jsonencode(local.deployment)

  lifecycle {
    # After a successful shift the alias serves the target version, which changes
    # CurrentVersion in the input: that is no reason to deploy again. Only a new target version
    # (triggers) is; a replacement is created with the whole input as it is then.
    ignore_changes = [input]
  }

  # The event rule, its target and the Lambda permission must exist before the deployment
  # starts, or its first events are missed (the trigger would still see the end by polling).
  depends_on = [module.trigger]
}
