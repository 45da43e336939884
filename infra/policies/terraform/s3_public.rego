# No bucket is readable or writable by the public: no public canned ACL, and public access
# blocks keep all four protections on.
package terraform.s3_public

import data.terraform.lib
import rego.v1

title := "No public S3 buckets"

public_acls := {"public-read", "public-read-write", "authenticated-read"}

deny contains msg if {
  some rc in lib.changed
  rc.type in {"aws_s3_bucket", "aws_s3_bucket_acl"}
  acl := lib.after(rc).acl
  acl in public_acls
  msg := sprintf("%v sets the public ACL %v", [rc.address, acl])
}

deny contains msg if {
  some rc in lib.changed
  rc.type == "aws_s3_bucket_public_access_block"
  some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls",
    "restrict_public_buckets"]
  object.get(lib.after(rc), setting, false) != true
  msg := sprintf("%v turns %v off", [rc.address, setting])
}
