# Meridian's buckets: media kept forever, reports to Glacier after 90 days,
# backups kept 30 days; all private, encrypted and versioned.

variable "prefix" { type = string }
variable "buckets" {
  type = map(object({
    glacier_after_days = optional(number)
    expire_after_days  = optional(number)
  }))
}
variable "tags" { type = map(string) }

resource "aws_s3_bucket" "this" {
  for_each = var.buckets
  bucket   = "${var.prefix}-${each.key}"
  tags     = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = { for k, v in var.buckets : k => v if v.glacier_after_days != null || v.expire_after_days != null }
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    id     = "retention"
    status = "Enabled"
    filter {}
    dynamic "transition" {
      for_each = each.value.glacier_after_days == null ? [] : [each.value.glacier_after_days]
      content {
        days          = transition.value
        storage_class = "GLACIER"
      }
    }
    dynamic "expiration" {
      for_each = each.value.expire_after_days == null ? [] : [each.value.expire_after_days]
      content {
        days = expiration.value
      }
    }
  }
}

output "bucket_arns" { value = { for k, b in aws_s3_bucket.this : k => b.arn } }
output "bucket_names" { value = { for k, b in aws_s3_bucket.this : k => b.bucket } }
