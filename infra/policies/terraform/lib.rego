# Helpers over `terraform show -json` plan output (Terraform's JSON output format:
# resource_changes[].change.before/after, variables.<name>.value).
package terraform.lib

import rego.v1

# Managed resources the plan creates or updates (deletes and no-ops leave nothing to check);
# an array, since a set of whole resource documents makes the engine compare them all.
changed := [rc |
  some rc in input.resource_changes
  rc.mode == "managed"
  some action in rc.change.actions
  action in {"create", "update"}
]

after(rc) := object.get(rc.change, "after", {})

# Where a resource keeps its tags: AWS resources in `tags` (and provider default tags in
# `tags_all` once known); the sandbox's terraform_data records in `input.tags`.
tags(rc) := as_object(object.get(after(rc), ["input", "tags"], {})) if rc.type == "terraform_data"

tags(rc) := object.union(
  as_object(object.get(after(rc), "tags_all", {})),
  as_object(object.get(after(rc), "tags", {})),
) if rc.type != "terraform_data"

# Unset tags are planned as null.
as_object(value) := value if is_object(value)

as_object(value) := {} if not is_object(value)

# Resources that carry tags at all (the AWS provider plans `tags` even when null).
taggable(rc) if rc.type == "terraform_data"

taggable(rc) if {
  rc.type != "terraform_data"
  "tags" in object.keys(after(rc))
}

# The environment the plan targets: the root module's `environment` variable.
environment := input.variables.environment.value
