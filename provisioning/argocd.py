"""GitOps deploys: write the image tag into the GitOps repo, commit, then ask ArgoCD to sync.

The repository has the layout of infra/argocd (`envs/<env>/<service>/values.yaml`). A
deploy is one real git commit authored by the requester; a rollback is `git revert` of
that commit. Syncing goes through whatever ArgoCD client the caller passes (the portal
passes portal.integrations.argocd.ArgoCDClient), so this module stays free of the portal.
"""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from provisioning.errors import RunFailed

Sink = Callable[[str], None]
NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
SHA = re.compile(r"^[0-9a-f]{7,40}$")


class ArgoCD(Protocol):
    def sync(self, app: str, *, revision: str | None = None): ...


@dataclass(frozen=True)
class Author:
    name: str
    email: str


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    previous_tag: str | None
    tag: str | None


def app_name(service: str, environment: str) -> str:
    """The ArgoCD Application of a service in an environment."""
    return f"{service}-{environment}"


class GitOpsRepo:
    """A local clone of the GitOps repository."""

    def __init__(self, path: str | Path, *, sink: Sink, push: bool = False):
        self.path = Path(path)
        self.sink = sink
        self.push = push

    def values_path(self, service: str, environment: str) -> Path:
        if not (NAME.match(service) and NAME.match(environment)):
            raise ValueError("invalid service or environment name")
        return self.path / "envs" / environment / service / "values.yaml"

    def current_tag(self, service: str, environment: str) -> str:
        """The image tag the repo declares for the service in the environment."""
        path = self.values_path(service, environment)
        if not path.exists():
            raise RunFailed(f"{path.relative_to(self.path)} is not in the GitOps repo")
        return str(yaml.safe_load(path.read_text())["image"]["tag"])

    def bump_image_tag(self, service: str, environment: str, tag: str, *, author: Author,
                       message: str) -> Commit:
        """Set image.tag and commit it as `author`; no commit when the tag is unchanged."""
        if not TAG.match(tag):
            raise ValueError(f"invalid image tag {tag!r}")
        path = self.values_path(service, environment)
        previous = self.current_tag(service, environment)
        if previous == tag:
            raise RunFailed(f"{service} already runs {tag} in {environment}")
        values = yaml.safe_load(path.read_text())
        values["image"]["tag"] = tag
        path.write_text(yaml.safe_dump(values, sort_keys=False))
        self._git("add", str(path.relative_to(self.path)))
        self._commit(author, message)
        return Commit(self.head(), message, previous, tag)

    def revert(self, sha: str, *, author: Author, message: str,
               service: str, environment: str) -> Commit:
        """Revert one commit as `author` (a rollback)."""
        if not SHA.match(sha):
            raise ValueError(f"invalid commit {sha!r}")
        before = self.current_tag(service, environment)
        self._git("revert", "--no-commit", sha)
        self._commit(author, message)
        return Commit(self.head(), message, before, self.current_tag(service, environment))

    def commit_file(self, relative: str, text: str, *, author: Author, message: str) -> str:
        """Write one file under the repo (a new manifest) and commit it; returns the sha."""
        path = self._inside(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self._git("add", "--", relative)
        self._commit(author, message)
        return self.head()

    def remove_file(self, relative: str, *, author: Author, message: str) -> str:
        """Delete one committed file (Argo CD prunes what it created); returns the sha."""
        self._inside(relative)
        self._git("rm", "--quiet", "--", relative)
        self._commit(author, message)
        return self.head()

    def _inside(self, relative: str) -> Path:
        path = (self.path / relative).resolve()
        if not re.fullmatch(r"[a-z0-9][a-z0-9/._-]{0,199}", relative) or ".." in relative \
                or not path.is_relative_to(self.path.resolve()):
            raise ValueError(f"invalid path {relative!r}")
        return path

    def revert_diff(self, sha: str) -> str:
        """The unified diff a revert of `sha` would apply (that commit's change, reversed)."""
        if not SHA.match(sha):
            raise ValueError(f"invalid commit {sha!r}")
        return self._git("diff", sha, f"{sha}^")

    def parent(self, sha: str) -> str:
        """The commit before `sha` (the revision a revert of it goes back to)."""
        if not SHA.match(sha):
            raise ValueError(f"invalid commit {sha!r}")
        return self._git("rev-parse", f"{sha}^").strip()

    def head(self) -> str:
        return self._git("rev-parse", "HEAD").strip()

    def commit_info(self, sha: str) -> str:
        """`sha author subject` of one commit (for logs and tests)."""
        return self._git("log", "-1", "--format=%H %an <%ae> %s", sha).strip()

    def _commit(self, author: Author, message: str) -> None:
        self._git("-c", "user.name=Meridian Portal", "-c", "user.email=portal@meridian.io",
                  "commit", "--quiet", f"--author={author.name} <{author.email}>",
                  "-m", message)
        self.sink(f"git commit {self.head()[:12]}: {message.splitlines()[0]}")
        if self.push:
            self._git("push", "--quiet", "origin", "HEAD")
            self.sink("git push origin HEAD")

    def _git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            if args[0] == "revert":
                subprocess.run(["git", "-C", str(self.path), "revert", "--abort"],
                               capture_output=True, timeout=60)
            raise RunFailed(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout


def sync(argocd: ArgoCD | None, *, service: str, environment: str, revision: str,
         sink: Sink) -> object:
    """Ask ArgoCD to sync the application to `revision`; logs when no ArgoCD is configured."""
    app = app_name(service, environment)
    if argocd is None:
        sink(f"ArgoCD is not configured: {app} picks up {revision[:12]} on its next poll")
        return None
    sink(f"ArgoCD: sync {app} to {revision[:12]}")
    status = argocd.sync(app, revision=revision)
    sink(f"ArgoCD: {app} {getattr(status, 'sync_status', '')} "
         f"{getattr(status, 'health_status', '')}".rstrip())
    return status
