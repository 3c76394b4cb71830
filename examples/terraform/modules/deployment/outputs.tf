output "result" {
  description = "The trigger's result from the link that met the milestone: deploymentId, status, complete, milestone, createdAt, completedAt, consoleUrl, ..."
  value       = jsondecode(local.final_result)
}

output "deployment_id" {
  description = "The deployment the chain created and waited for."
  value       = jsondecode(aws_lambda_invocation.deploy.result).deploymentId
}

output "status" {
  description = "The deployment's status when the milestone was met (Succeeded, or Ready with wait_until = \"Ready\")."
  value       = jsondecode(local.final_result).status
}

output "links" {
  description = "Number of waiting links (aws_lambda_invocation resources that attach and wait), besides the one that creates the deployment: ceil(max_wait_minutes * 60 / (function_timeout_seconds - deadline_margin_seconds))."
  value       = local.links
}

output "link_results" {
  description = "Every waiting link's raw result (JSON), in order: which link waited for what."
  value       = local.link_results
}
