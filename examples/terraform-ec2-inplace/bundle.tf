# The revision bundle in a versioned bucket: each apply with a changed zip uploads a new object
# version, and the deployment names that exact version and ETag.
#
# The zip itself is built outside Terraform (README): CodeDeploy wants a zip, tar or tgz bundle
# for EC2/on-premises (the YAML and JSON bundle types are AppSpec files of Lambda and ECS
# deployments), the hashicorp/aws provider has nothing that makes an archive, and Terraform's
# functions cannot write one (no CRC-32). The archive provider can (data "archive_file"); with
# it, point bundle_path at its output_path.

resource "aws_s3_bucket" "bundles" {
  #checkov:skip=CKV_AWS_18:Access logs need another bucket; left out of the example.
  #checkov:skip=CKV_AWS_144:Cross-region replication of deployment bundles is out of scope of an example.
  #checkov:skip=CKV_AWS_145:SSE-S3 (below) is enough for application bundles; a KMS key would need key grants for the instances.
  #checkov:skip=CKV2_AWS_62:No event notifications needed: Terraform starts the deployments.
  bucket_prefix = "${var.name}-bundles-"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "bundles" {
  bucket = aws_s3_bucket.bundles.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "bundles" {
  bucket = aws_s3_bucket.bundles.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "bundles" {
  bucket                  = aws_s3_bucket.bundles.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "bundles" {
  bucket = aws_s3_bucket.bundles.id

  rule {
    id     = "old-bundles"
    status = "Enabled"

    filter {}

    # Rollbacks and RESTART use earlier revisions: keep them a while.
    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.bundles]
}

resource "aws_s3_object" "bundle" {
  bucket      = aws_s3_bucket.bundles.id
  key         = "${var.name}/bundle.zip"
  source      = var.bundle_path
  source_hash = filemd5(var.bundle_path)

  depends_on = [aws_s3_bucket_versioning.bundles]
}
