# PostgreSQL 15 on RDS: primary (Multi-AZ in prod) plus read replicas, 7-day PITR
# (primary + 2 replicas in prod, single instance in staging/DR).

variable "name" { type = string }
variable "vpc_id" { type = string }
variable "subnet_ids" { type = list(string) }
variable "allowed_security_group_ids" { type = list(string) }
variable "instance_class" { type = string }
variable "allocated_storage" {
  type    = number
  default = 200
}
variable "multi_az" {
  type    = bool
  default = true
}
variable "read_replicas" {
  type    = number
  default = 0
}
variable "backup_retention_days" {
  type    = number
  default = 7
}
variable "tags" { type = map(string) }

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name   = "${var.name}-rds"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = var.allowed_security_group_ids
  }
  tags = var.tags
}

resource "aws_db_instance" "primary" {
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = "15"
  instance_class               = var.instance_class
  allocated_storage            = var.allocated_storage
  storage_encrypted            = true
  multi_az                     = var.multi_az
  db_subnet_group_name         = aws_db_subnet_group.this.name
  vpc_security_group_ids       = [aws_security_group.this.id]
  username                     = "meridian_admin"
  manage_master_user_password  = true
  backup_retention_period      = var.backup_retention_days
  deletion_protection          = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-final"
  performance_insights_enabled = true
  tags                         = var.tags
}

resource "aws_db_instance" "replica" {
  count                  = var.read_replicas
  identifier             = "${var.name}-replica-${count.index + 1}"
  replicate_source_db    = aws_db_instance.primary.identifier
  instance_class         = var.instance_class
  vpc_security_group_ids = [aws_security_group.this.id]
  storage_encrypted      = true
  skip_final_snapshot    = true
  tags                   = var.tags
}

output "endpoint" { value = aws_db_instance.primary.endpoint }
output "replica_endpoints" { value = aws_db_instance.replica[*].endpoint }
output "master_secret_arn" { value = aws_db_instance.primary.master_user_secret[0].secret_arn }
