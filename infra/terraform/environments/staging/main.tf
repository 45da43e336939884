# The staging environment (us-east-1). State: S3 with DynamoDB locking, one state file
# per environment; bucket and table names come from backend.hcl at init:
#   terraform init -backend-config=backend.hcl

terraform {
  required_version = ">= 1.6"
  backend "s3" {
    key     = "meridian/staging/terraform.tfstate"
    encrypt = true
  }
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = local.tags
  }
}

locals {
  tags = {
    owner         = "platform@meridian.io"
    team          = "platform"
    "cost-center" = "cc-platform-staging"
    environment   = "staging"
  }
}

module "platform" {
  source             = "../../modules/platform"
  environment        = "staging"
  cidr               = "10.20.0.0/16"
  azs                = ["us-east-1a", "us-east-1b"]
  single_nat_gateway = true
  node_groups = {
    general = { instance_types = ["m5.large"], min_size = 3, max_size = 3, desired_size = 3 }
  }
  rds_instance_class = "db.m5.large"
  rds_multi_az       = false
  rds_read_replicas  = 0
  redis_node_type    = "cache.t4g.medium"
  redis_replicas     = 1
  tags               = local.tags
}

output "cluster_endpoint" { value = module.platform.cluster_endpoint }
output "database_endpoint" { value = module.platform.database_endpoint }
output "redis_endpoint" { value = module.platform.redis_endpoint }
