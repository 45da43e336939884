# IAM roles for service accounts (IRSA): one least-privilege role per service that
# needs AWS access, assumable only by its Kubernetes service account.

variable "name" { type = string }
variable "oidc_provider_arn" { type = string }
variable "oidc_issuer" { type = string }
variable "namespace" { type = string }
variable "service_buckets" {
  type        = map(list(string))
  description = "service name -> ARNs of the buckets it reads and writes"
}
variable "tags" { type = map(string) }

locals {
  issuer_host = replace(var.oidc_issuer, "https://", "")
}

data "aws_iam_policy_document" "assume" {
  for_each = var.service_buckets
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${each.key}"]
    }
  }
}

data "aws_iam_policy_document" "buckets" {
  for_each = var.service_buckets
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for arn in each.value : "${arn}/*"]
  }
  statement {
    actions   = ["s3:ListBucket"]
    resources = each.value
  }
}

resource "aws_iam_role" "service" {
  for_each           = var.service_buckets
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "buckets" {
  for_each = var.service_buckets
  name     = "buckets"
  role     = aws_iam_role.service[each.key].id
  policy   = data.aws_iam_policy_document.buckets[each.key].json
}

output "role_arns" { value = { for k, r in aws_iam_role.service : k => r.arn } }
