output "deployment_id" {
  description = "Id of the last CodeDeploy deployment started by Terraform."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "deploymentId", null)
}

output "status" {
  description = "Final status of that deployment (Succeeded; a failure fails the apply)."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "status", null)
}

output "lifecycle" {
  description = "Where the last deployment's time went on its first instance: ApplicationStop ... ValidateService, and how many instances it deployed to."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "lifecycle", null)
}

output "console_url" {
  description = "The deployment in the CodeDeploy console."
  value       = lookup(jsondecode(aws_lambda_invocation.deploy.result), "consoleUrl", null)
}

output "bundle" {
  description = "The deployed bundle: bucket, key and object version."
  value = {
    bucket  = aws_s3_object.bundle.bucket
    key     = aws_s3_object.bundle.key
    version = aws_s3_object.bundle.version_id
  }
}

output "autoscaling_group_name" {
  description = "The Auto Scaling group whose instances the group deploys to."
  value       = aws_autoscaling_group.app.name
}

output "trigger_function_name" {
  description = "Trigger function, for other aws_lambda_invocation resources."
  value       = module.trigger.trigger_function_name
}
