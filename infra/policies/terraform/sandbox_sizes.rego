# Sandboxes (dev environments) stay small: burstable instance sizes only, and at most three
# app instances, as the self-service form offers.
package terraform.sandbox_sizes

import data.terraform.lib
import rego.v1

title := "Sandbox sizes"

max_app_instances := 3

allowed := {
  "aws_instance": {"t3.micro", "t3.small", "t3.medium", "t4g.micro", "t4g.small", "t4g.medium"},
  "aws_db_instance": {"db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"},
  "aws_elasticache_cluster": {"cache.t3.micro", "cache.t4g.micro", "cache.t4g.small"},
  "aws_elasticache_replication_group": {"cache.t3.micro", "cache.t4g.micro", "cache.t4g.small"},
}

size_attribute := {
  "aws_instance": "instance_type",
  "aws_db_instance": "instance_class",
  "aws_elasticache_cluster": "node_type",
  "aws_elasticache_replication_group": "node_type",
}

deny contains msg if {
  lib.environment == "dev"
  some rc in lib.changed
  attribute := size_attribute[rc.type]
  size := lib.after(rc)[attribute]
  not size in allowed[rc.type]
  # concat, not sprintf: the portal's interpreter quotes built-in results inside sprintf.
  msg := concat("", [sprintf("%v uses %v %v, larger than a sandbox allows (", [rc.address, attribute, size]),
    concat(", ", sort(allowed[rc.type])), ")"])
}

deny contains msg if {
  lib.environment == "dev"
  some rc in lib.changed
  rc.type == "aws_eks_node_group"
  some size in lib.after(rc).instance_types
  not size in allowed.aws_instance
  msg := sprintf("%v uses instance type %v, larger than a sandbox allows", [rc.address, size])
}

deny contains msg if {
  lib.environment == "dev"
  apps := [rc |
    some rc in input.resource_changes
    rc.mode == "managed"
    rc.type == "terraform_data"
    rc.name == "app"
    not rc.change.actions == ["delete"]
  ]
  count(apps) > max_app_instances
  msg := sprintf("the sandbox would run %v app instances; at most %v are allowed",
    [count(apps), max_app_instances])
}
