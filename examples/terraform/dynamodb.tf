# One item per deployment (written by the recorder, read by the trigger) plus
# the trigger's idempotency records, all keyed by the string "deploymentId".
resource "aws_dynamodb_table" "status" {
  #checkov:skip=CKV_AWS_119:The table holds deployment ids and states only; server-side encryption with the AWS managed key is enough, and a customer managed key would need its own key policy and KMS permissions for both roles.
  name                        = "${var.name_prefix}-status"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "deploymentId"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "deploymentId"
    type = "S"
  }

  # Items expire by themselves: status_ttl_days for deployments,
  # idempotency_ttl_seconds for idempotency records.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}
