# One item per deployment (written by the recorder, read by the trigger) plus
# the trigger's idempotency records, all keyed by the string "deploymentId".
# Attribute names are defined once in shared/adapters/status_table.py; keep them equal.
resource "aws_dynamodb_table" "status" {
  count = local.tracking_count

  #checkov:skip=CKV_AWS_119:A customer managed key is optional (var.kms_key_arn, default null: the AWS managed key); the table holds deployment ids and states only. Checkov reads the default and cannot see a key given by the caller.
  name                        = "${var.name_prefix}-status"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "deploymentId"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "deploymentId"
    type = "S"
  }

  attribute {
    name = "deploymentGroupKey"
    type = "S"
  }

  attribute {
    name = "createdAt"
    type = "S"
  }

  # Every deployment of a group, newest first (the trigger's `history` query).
  # Sparse: only deployment items carry deploymentGroupKey ("<application>/<group>"),
  # never the idempotency records. Adding it to an existing table is an in-place
  # update: the provider sends UpdateTable with a GlobalSecondaryIndexUpdates
  # Create (terraform-provider-aws internal/service/dynamodb/table.go, updateDiffGSI;
  # DynamoDB developer guide "Managing global secondary indexes": an index can be
  # added to an existing table, which stays available while it backfills).
  # INCLUDE keeps the index entries small (a history entry's fields only), so a
  # Query of 50 entries stays within a few read units.
  # hash_key / range_key, not key_schema: provider 6.29.0 added key_schema blocks
  # (multi-attribute keys) and deprecated these two, but the module supports
  # hashicorp/aws >= 5.40 (versions.tf), and 5.x has no key_schema. Switch when the
  # module's floor reaches 6.29; both forms describe the same index.
  global_secondary_index {
    name               = "byGroup"
    hash_key           = "deploymentGroupKey"
    range_key          = "createdAt"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status", "source", "completedAt"]
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

  # kms_key_arn null: the AWS managed key (aws/dynamodb), as before. With a customer managed
  # key both roles need kms:Decrypt on it: DynamoDB decrypts the table key with the caller's
  # permissions when a principal first reads or writes, and again after five minutes without
  # a request (DynamoDB developer guide, "Encryption at rest: How it works", table keys;
  # AWS KMS developer guide, "How Amazon DynamoDB uses AWS KMS"). The grants are in iam.tf.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
