"""Real ansible-runner runs of infra/ansible playbooks against localhost (connection local).

Paths are rooted in a scratch directory (`edge_root`) and package/service tasks are off
(`edge_manage_packages: false`), so the real playbooks run without touching the machine.
"""
import sys

import pytest

from portal.config import PROJECT_ROOT
from provisioning.ansible import AnsibleRunner, inventory_groups
from provisioning.errors import RunCancelled, RunFailed

pytestmark = pytest.mark.integration
ANSIBLE = PROJECT_ROOT / "infra" / "ansible"
LOCAL_INVENTORY = (f"[edge_test]\nlocalhost ansible_connection=local "
                   f"ansible_python_interpreter={sys.executable}\n")


def runner(tmp_path, lines, **kw):
    return AnsibleRunner(project_dir=ANSIBLE, inventory=LOCAL_INVENTORY, sink=lines.append,
                         extravars={"edge_root": f"{tmp_path}/", "edge_manage_packages": False},
                         **kw)


def test_seed_inventory_has_twelve_nodes_at_three_sites():
    groups = inventory_groups(ANSIBLE / "inventory" / "edge.yml")
    assert groups["edge"] == 12
    sites = {g: n for g, n in groups.items() if g.startswith("edge_")}
    assert len(sites) == 3 and set(sites.values()) == {4}


def test_check_mode_changes_nothing_then_apply_writes(tmp_path):
    lines = []
    check = runner(tmp_path, lines).run("bootstrap", group="edge_test", check=True)
    assert check.ok and check.check
    assert check.hosts["localhost"]["changed"] == 3
    assert check.hosts["localhost"]["failed"] == 0
    assert not (tmp_path / "etc" / "meridian").exists()  # check mode wrote nothing
    assert any("TASK [Kernel settings for a caching origin]" in line for line in lines)

    real = runner(tmp_path, []).run("bootstrap", group="edge_test", check=False)
    assert real.ok and real.hosts["localhost"]["changed"] == 3
    assert "name: localhost" in (tmp_path / "etc" / "meridian" / "node.yml").read_text()

    again = runner(tmp_path, []).run("bootstrap", group="edge_test", check=True)
    assert again.hosts["localhost"]["changed"] == 0  # idempotent


@pytest.mark.parametrize("playbook", ["upgrade", "addons"])
def test_other_playbooks_apply(tmp_path, playbook):
    (tmp_path / "etc" / "meridian").mkdir(parents=True)
    result = runner(tmp_path, []).run(playbook, group="edge_test", check=False)
    assert result.ok and result.hosts["localhost"]["changed"] >= 1


def test_unreachable_host_fails_with_per_host_result(tmp_path):
    bad = AnsibleRunner(project_dir=ANSIBLE, sink=lambda line: None,
                        inventory="[edge_test]\nedge-nowhere ansible_host=127.0.0.1 "
                                  "ansible_port=1 ansible_connection=ssh\n")
    with pytest.raises(RunFailed, match="edge-nowhere"):
        bad.run("addons", group="edge_test", check=True)


def test_cancel_stops_the_run(tmp_path):
    r = runner(tmp_path, [])
    r.cancel()
    with pytest.raises(RunCancelled):
        r.run("bootstrap", group="edge_test", check=True)


@pytest.mark.parametrize("playbook,group", [("site", "edge_test"), ("bootstrap", "x; rm -rf /")])
def test_unknown_playbook_or_group_is_refused(tmp_path, playbook, group):
    with pytest.raises(ValueError):
        runner(tmp_path, []).run(playbook, group=group, check=True)
