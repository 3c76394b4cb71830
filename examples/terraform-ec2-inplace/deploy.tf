# The trigger and recorder functions, the status table and the event rule.
module "trigger" {
  source = "../terraform"

  name_prefix                  = var.name
  lambda_zip_path              = var.lambda_zip_path
  architecture                 = var.lambda_architecture
  codedeploy_application_names = [aws_codedeploy_app.app.name]
}

locals {
  # The bundle's exact object version and ETag: CodeDeploy deploys that object, not whatever
  # the key holds later.
  revision = {
    revisionType = "S3"
    s3Location = {
      bucket     = aws_s3_object.bundle.bucket
      key        = aws_s3_object.bundle.key
      bundleType = "zip"
      version    = aws_s3_object.bundle.version_id
      eTag       = aws_s3_object.bundle.etag
    }
  }

  deployment = merge(
    {
      applicationName      = aws_codedeploy_app.app.name
      deploymentGroupName  = aws_codedeploy_deployment_group.app.deployment_group_name
      deploymentConfigName = var.deployment_config_name
      deploymentMode       = var.deployment_mode
      ec2DeploymentOptions = {
        autoScalingGroupProcessesToSuspend = var.processes_to_suspend
      }
      description = "terraform: ${var.deployment_mode == "RESTART" ? "restart" : "bundle ${aws_s3_object.bundle.version_id}"}"
      wait        = true
      # On failure, wait for CodeDeploy's rollback and say whether it restored the last revision.
      waitForRollback = true
    },
    # RESTART redeploys the group's last successful revision: CodeDeploy refuses a revision.
    var.deployment_mode == "RESTART" ? {} : { revision = local.revision },
  )
}

# Terraform has no aws_codedeploy_deployment resource: this invocation is one. A new bundle, a
# change of mode or of restart_token replaces it, so a deployment starts; apply fails when the
# deployment fails, naming the instances, the script and its log tail.
resource "aws_lambda_invocation" "deploy" {
  function_name = module.trigger.trigger_function_name

  # CREATE_ONLY (the provider's default, written out to say it is chosen): every deployment is
  # a create; a failed create is not saved, so the next apply tries again; destroy invokes
  # nothing.
  lifecycle_scope = "CREATE_ONLY"

  triggers = {
    restart_token = var.restart_token
  }

  input = jsonencode(local.deployment)

  # The instances must exist (the group finds them through the Auto Scaling group), and the
  # event rule before the deployment's first event.
  depends_on = [module.trigger, aws_autoscaling_group.app]
}
