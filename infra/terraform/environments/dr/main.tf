# The dr environment (eu-west-1). State: S3 with DynamoDB locking, one state file
# per environment; bucket and table names come from backend.hcl at init:
#   terraform init -backend-config=backend.hcl

terraform {
  required_version = ">= 1.6"
  backend "s3" {
    key     = "meridian/dr/terraform.tfstate"
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
  region = "eu-west-1"
  default_tags {
    tags = local.tags
  }
}

locals {
  tags = {
    owner         = "platform@meridian.io"
    team          = "platform"
    "cost-center" = "cc-platform-dr"
    environment   = "dr"
  }
}

module "platform" {
  source             = "../../modules/platform"
  environment        = "dr"
  cidr               = "10.30.0.0/16"
  azs                = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  single_nat_gateway = true
  node_groups = {
    system      = { instance_types = ["m5.xlarge"], min_size = 2, max_size = 2, desired_size = 2 }
    application = { instance_types = ["m5.xlarge"], min_size = 3, max_size = 3, desired_size = 3 }
    data        = { instance_types = ["r5.xlarge"], min_size = 2, max_size = 2, desired_size = 2 }
  }
  rds_instance_class = "db.r5.xlarge"
  rds_multi_az       = false
  rds_read_replicas  = 0
  redis_node_type    = "cache.r6g.large"
  redis_replicas     = 0
  tags               = local.tags
}

output "cluster_endpoint" { value = module.platform.cluster_endpoint }
output "database_endpoint" { value = module.platform.database_endpoint }
output "redis_endpoint" { value = module.platform.redis_endpoint }
