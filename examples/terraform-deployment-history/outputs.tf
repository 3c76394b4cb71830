output "latest_deployment_id" {
  description = "The group's most recently created deployment (null when the table knows none)."
  value       = try(local.latest.deploymentId, null)
}

output "latest_status" {
  description = "Its status: Created, Queued, InProgress, Baking, Ready, Succeeded, Failed or Stopped."
  value       = try(local.latest.status, null)
}

output "latest_succeeded" {
  description = "Whether the latest deployment ended Succeeded (false while one runs, or after a failure)."
  value       = try(local.latest.status, null) == "Succeeded"
}

output "latest_created_at" {
  description = "When it was created (ISO-8601 UTC)."
  value       = try(local.latest.createdAt, null)
}

output "latest_completed_at" {
  description = "When it ended (ISO-8601 UTC; null while it runs)."
  value       = try(local.latest.completedAt, null)
}

output "deployments" {
  description = "Up to var.limit deployments, newest first: deploymentId, status, createdAt, completedAt, source."
  value       = local.history.deployments
}
