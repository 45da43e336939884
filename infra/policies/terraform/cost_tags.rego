# Every resource carries the cost tags finance allocates by: owner, team, cost-center
# (cc-NNNN) and environment (the environment the plan targets).
package terraform.cost_tags

import data.terraform.lib
import rego.v1

title := "Cost tags on every resource"

required := ["owner", "team", "cost-center", "environment"]

deny contains msg if {
  some rc in lib.changed
  lib.taggable(rc)
  tags := lib.tags(rc)
  missing := [key | some key in required; not non_empty(tags, key)]
  count(missing) > 0
  msg := concat("", [rc.address, " lacks the cost tag(s) ", concat(", ", missing)])
}

deny contains msg if {
  some rc in lib.changed
  lib.taggable(rc)
  center := lib.tags(rc)["cost-center"]
  is_string(center)
  not regex.match(`^cc-[0-9]{4}$`, center)
  msg := sprintf("%v has cost-center %v; it must look like cc-1234", [rc.address, center])
}

deny contains msg if {
  some rc in lib.changed
  lib.taggable(rc)
  tagged := lib.tags(rc).environment
  is_string(tagged)
  tagged != lib.environment
  msg := sprintf("%v is tagged environment=%v but the plan is for %v",
    [rc.address, tagged, lib.environment])
}

non_empty(tags, key) if {
  is_string(tags[key])
  tags[key] != ""
}
