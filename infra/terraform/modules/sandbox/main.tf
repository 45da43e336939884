# A self-service sandbox environment that needs no cloud: only Terraform's built-in
# `terraform_data` resource, so the portal's demo and tests apply and destroy it for real.
# It mirrors the shape of a real environment (network, database, cache, bucket) as
# records, and carries the mandatory cost tags (owner, team, cost-center,
# environment) like every real module here.

terraform {
  required_version = ">= 1.6"
}

variable "name" {
  type        = string
  description = "Environment name (lowercase letters, digits and dashes)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,39}$", var.name))
    error_message = "name: 3-40 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "dev, staging or prod."
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "tags" {
  type        = map(string)
  description = "Cost tags: owner, team, cost-center, environment."
  validation {
    condition     = alltrue([for k in ["owner", "team", "cost-center", "environment"] : contains(keys(var.tags), k)])
    error_message = "tags must contain owner, team, cost-center and environment."
  }
}

variable "replicas" {
  type    = number
  default = 1
  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number from 1 to 5."
  }
}

variable "apply_delay_seconds" {
  type        = number
  default     = 0
  description = "Seconds each app replica takes to 'boot' (lets tests observe an apply in flight)."
  validation {
    condition     = var.apply_delay_seconds >= 0 && var.apply_delay_seconds <= 600 && floor(var.apply_delay_seconds) == var.apply_delay_seconds
    error_message = "apply_delay_seconds must be a whole number from 0 to 600."
  }
}

locals {
  cidr = "10.${parseint(substr(sha1(var.name), 0, 2), 16)}.0.0/16"
}

resource "terraform_data" "network" {
  input = {
    name = "${var.name}-vpc"
    cidr = local.cidr
    tags = var.tags
  }
}

resource "terraform_data" "database" {
  input = {
    endpoint = "${var.name}-db.sandbox.internal:5432"
    engine   = "postgres15"
    network  = terraform_data.network.output.name
    tags     = var.tags
  }
}

resource "terraform_data" "cache" {
  input = {
    endpoint = "${var.name}-cache.sandbox.internal:6379"
    network  = terraform_data.network.output.name
    tags     = var.tags
  }
}

resource "terraform_data" "bucket" {
  input = {
    name = "meridian-${var.name}-artifacts"
    tags = var.tags
  }
}

resource "terraform_data" "app" {
  count = var.replicas
  input = {
    name     = "${var.name}-app-${count.index}"
    database = terraform_data.database.output.endpoint
    tags     = var.tags
  }

  # The number is validated above, so nothing but digits reaches the shell.
  provisioner "local-exec" {
    command = "sleep ${var.apply_delay_seconds}"
  }
}

output "url" {
  value = "https://${var.name}.sandbox.meridian.internal"
}

output "vpc_cidr" {
  value = local.cidr
}

output "database_endpoint" {
  value = terraform_data.database.output.endpoint
}

output "cache_endpoint" {
  value = terraform_data.cache.output.endpoint
}

output "bucket" {
  value = terraform_data.bucket.output.name
}

output "app_instances" {
  value = [for a in terraform_data.app : a.output.name]
}
