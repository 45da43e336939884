"""Ansible playbook runs through ansible-runner, check mode first, per-host results.

Every runner event's output lines go to the `sink` as they happen. The inventory is a
file (infra/ansible/inventory/edge.yml: sites as groups) or inline INI text, and a run
is limited to one group (a site, or the whole `edge` fleet).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ansible_runner
import yaml

from provisioning.errors import RunCancelled, RunFailed, RunTimedOut

Sink = Callable[[str], None]
PLAYBOOKS = ("bootstrap", "upgrade", "addons")
GROUP = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
STAT_KEYS = {"ok": "ok", "changed": "changed", "failures": "failed", "dark": "unreachable",
             "skipped": "skipped"}


@dataclass(frozen=True)
class PlaybookResult:
    """How a run ended and what it did on each host."""
    status: str
    rc: int
    check: bool
    hosts: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        return self.status == "successful"


def inventory_groups(path: str | Path) -> dict[str, int]:
    """Group name -> number of hosts, for the groups of a YAML inventory (not `all`)."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    counts: dict[str, int] = {}

    def walk(name: str, node: dict) -> set[str]:
        hosts = set((node or {}).get("hosts") or {})
        for child, sub in ((node or {}).get("children") or {}).items():
            hosts |= walk(child, sub)
        if name != "all":
            counts[name] = len(hosts)
        return hosts

    walk("all", data.get("all", {}))
    return counts


class AnsibleRunner:
    """Runs the playbooks of one project directory against one inventory."""

    def __init__(self, *, project_dir: str | Path, inventory: str, sink: Sink,
                 timeout: int | None = None, extravars: dict | None = None):
        self.project_dir = Path(project_dir)
        self.inventory = inventory
        self.sink = sink
        self.timeout = timeout
        self.extravars = extravars or {}
        self._cancelled = threading.Event()
        # ansible-runner starts `ansible-playbook` from PATH; without the interpreter's own
        # bin dir first it fails at once with rc 127 when the venv is not activated.
        bin_dir = os.path.dirname(sys.executable)
        if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    def run(self, playbook: str, *, group: str, check: bool) -> PlaybookResult:
        """Run `playbook` on `group`, in check mode when `check`; raises when it fails."""
        if playbook not in PLAYBOOKS:
            raise ValueError(f"unknown playbook {playbook!r}")
        if not GROUP.match(group):
            raise ValueError(f"invalid group {group!r}")
        self.sink(f"ansible-playbook {playbook}.yml --limit {group}"
                  f"{' --check --diff' if check else ''}")
        private_dir = tempfile.mkdtemp(prefix="portal-ansible-")
        try:
            runner = ansible_runner.run(
                private_data_dir=private_dir, project_dir=str(self.project_dir),
                playbook=f"{playbook}.yml", inventory=self.inventory,
                extravars={**self.extravars, "target_group": group},
                limit=group, cmdline="--check --diff" if check else None,
                event_handler=self._on_event, cancel_callback=self._cancelled.is_set,
                timeout=self.timeout, quiet=True,
                envvars={"ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "False",
                         "ANSIBLE_HOST_KEY_CHECKING": "False"})
            # stats are read from the artifacts, so before the directory goes
            result = PlaybookResult(status=runner.status, rc=runner.rc, check=check,
                                    hosts=_per_host(runner.stats or {}))
        finally:
            shutil.rmtree(private_dir, ignore_errors=True)
        self._raise_for(result, playbook)
        return result

    def cancel(self) -> None:
        """Stop the run at the next event."""
        self._cancelled.set()

    def _on_event(self, event: dict) -> bool:
        for line in (event.get("stdout") or "").splitlines():
            if line.strip():
                self.sink(line.rstrip())
        return True

    def _raise_for(self, result: PlaybookResult, playbook: str) -> None:
        if result.status == "canceled":
            raise RunCancelled(f"{playbook}.yml cancelled")
        if result.status == "timeout":
            raise RunTimedOut(f"{playbook}.yml exceeded {self.timeout} s")
        if not result.ok:
            bad = sorted(h for h, s in result.hosts.items() if s["failed"] or s["unreachable"])
            where = f" on {', '.join(bad)}" if bad else ""
            raise RunFailed(f"{playbook}.yml failed{where} (status {result.status}, "
                            f"rc {result.rc})")


def _per_host(stats: dict) -> dict[str, dict[str, int]]:
    hosts: dict[str, dict[str, int]] = {}
    for key, name in STAT_KEYS.items():
        for host, count in (stats.get(key) or {}).items():
            hosts.setdefault(host, {v: 0 for v in STAT_KEYS.values()})[name] = count
    for host_stats in (stats.get("processed") or {}):
        hosts.setdefault(host_stats, {v: 0 for v in STAT_KEYS.values()})
    return hosts
