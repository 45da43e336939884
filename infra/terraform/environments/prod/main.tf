# The prod environment (us-east-1). State: S3 with DynamoDB locking, one state file
# per environment; bucket and table names come from backend.hcl at init:
#   terraform init -backend-config=backend.hcl

terraform {
  required_version = ">= 1.6"
  backend "s3" {
    key     = "meridian/prod/terraform.tfstate"
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
    "cost-center" = "cc-platform-prod"
    environment   = "prod"
  }
}

module "platform" {
  source             = "../../modules/platform"
  environment        = "prod"
  cidr               = "10.10.0.0/16"
  azs                = ["us-east-1a", "us-east-1b", "us-east-1c"]
  single_nat_gateway = false
  node_groups = {
    system      = { instance_types = ["m5.xlarge"], min_size = 3, max_size = 3, desired_size = 3 }
    application = { instance_types = ["m5.2xlarge"], min_size = 6, max_size = 6, desired_size = 6 }
    data        = { instance_types = ["r5.2xlarge"], min_size = 3, max_size = 3, desired_size = 3 }
    spot        = { instance_types = ["m5.xlarge"], min_size = 2, max_size = 8, desired_size = 2, capacity_type = "SPOT" }
  }
  rds_instance_class = "db.r5.2xlarge"
  rds_multi_az       = true
  rds_read_replicas  = 2
  redis_node_type    = "cache.r6g.large"
  redis_replicas     = 1
  tags               = local.tags
}

output "cluster_endpoint" { value = module.platform.cluster_endpoint }
output "database_endpoint" { value = module.platform.database_endpoint }
output "redis_endpoint" { value = module.platform.redis_endpoint }
