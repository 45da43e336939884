# One Meridian environment: VPC, EKS, RDS, ElastiCache, S3 and IRSA roles, wired
# together. environments/{prod,staging,dr} call this with their sizes.

variable "environment" { type = string }
variable "cidr" { type = string }
variable "azs" { type = list(string) }
variable "single_nat_gateway" { type = bool }
variable "node_groups" { type = any }
variable "rds_instance_class" { type = string }
variable "rds_multi_az" { type = bool }
variable "rds_read_replicas" { type = number }
variable "redis_node_type" { type = string }
variable "redis_replicas" { type = number }
variable "tags" {
  type = map(string)
  validation {
    condition     = alltrue([for k in ["owner", "team", "cost-center", "environment"] : contains(keys(var.tags), k)])
    error_message = "tags must contain owner, team, cost-center and environment (tagging policy)."
  }
}

locals {
  name = "meridian-${var.environment}"
}

module "vpc" {
  source             = "../vpc"
  name               = local.name
  cidr               = var.cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
  tags               = var.tags
}

module "eks" {
  source      = "../eks"
  name        = local.name
  subnet_ids  = module.vpc.private_subnet_ids
  node_groups = var.node_groups
  tags        = var.tags
}

module "rds" {
  source                     = "../rds"
  name                       = local.name
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class             = var.rds_instance_class
  multi_az                   = var.rds_multi_az
  read_replicas              = var.rds_read_replicas
  tags                       = var.tags
}

module "elasticache" {
  source                     = "../elasticache"
  name                       = local.name
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                  = var.redis_node_type
  replicas                   = var.redis_replicas
  tags                       = var.tags
}

module "s3" {
  source = "../s3"
  prefix = local.name
  buckets = {
    media       = {}
    reports     = { glacier_after_days = 90 }
    backups     = { expire_after_days = 30 }
    fulfillment = {}
  }
  tags = var.tags
}

module "iam" {
  source            = "../iam"
  name              = local.name
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "meridian-${var.environment}"
  service_buckets = {
    fulfillment = [module.s3.bucket_arns["fulfillment"]]
    worker      = [module.s3.bucket_arns["reports"]]
  }
  tags = var.tags
}

output "cluster_endpoint" { value = module.eks.cluster_endpoint }
output "database_endpoint" { value = module.rds.endpoint }
output "redis_endpoint" { value = module.elasticache.primary_endpoint }
output "buckets" { value = module.s3.bucket_names }
