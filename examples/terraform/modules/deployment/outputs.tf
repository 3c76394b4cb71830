output "result" {
  description = "The trigger's result from the link that met the milestone: deploymentId, status, complete, milestone, createdAt, completedAt, consoleUrl, ..."
  value       = jsondecode(local.final_result)
}

output "deployment_id" {
  description = "The deployment the chain created and waited for."
  value       = jsondecode(aws_lambda_invocation.link_1.result).deploymentId
}

output "status" {
  description = "The deployment's status when the milestone was met (Succeeded, or Ready with wait_until = \"Ready\")."
  value       = jsondecode(local.final_result).status
}

output "links" {
  description = "Number of links (aws_lambda_invocation resources) in the chain: ceil(max_wait_minutes / link_minutes)."
  value       = local.links
}

output "link_results" {
  description = "Every link's raw result (JSON), in order: which link waited for what."
  value       = local.link_results
}
