output "result" {
  description = "The trigger's result from the link that met the milestone (with ready_gate: the milestone after the gate): deploymentId, status, complete, milestone, createdAt, completedAt, consoleUrl, ..."
  value       = jsondecode(local.final_result)
}

output "deployment_id" {
  description = "The deployment the chain created and waited for."
  value       = jsondecode(aws_lambda_invocation.deploy.result).deploymentId
}

output "status" {
  description = "The deployment's status when the milestone was met (Succeeded; Ready with wait_until = \"Ready\"; InProgress or Succeeded with \"TrafficShifted\")."
  value       = jsondecode(local.final_result).status
}

output "ready" {
  description = "With ready_gate: the result of the link that saw the deployment Ready (deploymentId, status \"Ready\", ...), before anything continues it. Make your check read it (e.g. terraform_data input = module.<name>.ready) and pass the check's result back as ready_check. null without ready_gate."
  value       = var.ready_gate ? jsondecode(local.links_result) : null
}

output "links" {
  description = "Number of waiting links (aws_lambda_invocation resources that attach and wait), besides the one that creates the deployment: ceil(max_wait_minutes * 60 / (function_timeout_seconds - deadline_margin_seconds)), twice that with ready_gate (before and after the gate)."
  value       = local.links + local.continue_links
}

output "link_results" {
  description = "Every waiting link's raw result (JSON), in order (with ready_gate: the links to Ready, then the continuing ones): which link waited for what."
  value       = concat(local.link_results, local.continue_results)
}
