"""What a rollback would change, shown on the rollback form before it is submitted.

Three things, each from where it is true: the git change (the reverted deploy commit's
diff, reversed, from the GitOps clone), the revision and image tag going back to against
the current ones (the deploy job, the clone, and the revision ArgoCD has synced), and per
managed resource the diff between what runs now (ArgoCD's normalizedLiveState) and what
will be desired after the rollback. A rollback only moves `image.tag` in values.yaml, so
the desired state after it is ArgoCD's targetState with the images' tag put back; any
other difference in a resource's diff is live drift that the sync would also undo.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import yaml
from sqlalchemy.orm import Session

from portal.integrations.argocd import ArgoCDError, ArgoCDUnavailable, ResourceDiff
from portal.selfservice import deploy_status, engines, service
from portal.selfservice.models import Job
from provisioning import argocd as gitops
from provisioning.errors import RunFailed

MAX_DIFF_LINES = 400  # a preview is read by a person; the rest is elided


@dataclass(frozen=True)
class ResourceChange:
    """One managed resource: its unified diff from live to after the rollback."""
    kind: str
    namespace: str
    name: str
    diff: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass
class RollbackPreview:
    """Everything the rollback form shows about the change it would make."""
    service: str
    environment: str
    deploy: Job | None = None
    current_tag: str | None = None
    back_to_tag: str | None = None
    current_revision: str | None = None
    back_to_revision: str | None = None
    synced_revision: str | None = None
    git_diff: list[str] = field(default_factory=list)
    resources: list[ResourceChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _swap_tag(state: dict, old: str, new: str) -> dict:
    """`state` with every container image ending in `:old` moved to `:new`."""
    def walk(node):
        if isinstance(node, dict):
            return {k: (v[: -len(old)] + new if k == "image" and isinstance(v, str)
                        and v.endswith(f":{old}") else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node
    return walk(state)


def _lines(state: dict | None) -> list[str]:
    return yaml.safe_dump(state, sort_keys=True).splitlines() if state else []


def resource_change(item: ResourceDiff, *, current_tag: str, back_to_tag: str) -> ResourceChange:
    """The unified diff of one managed resource from live to after the rollback."""
    live = item.normalized_live_state or item.live_state
    after = _swap_tag(item.target_state, current_tag, back_to_tag) if item.target_state else None
    label = f"{item.kind} {item.namespace}/{item.name}"
    diff = list(difflib.unified_diff(_lines(live), _lines(after), fromfile=f"{label} (live now)",
                                     tofile=f"{label} (after rollback)", lineterm=""))
    if len(diff) > MAX_DIFF_LINES:
        diff = diff[:MAX_DIFF_LINES] + [f"... {len(diff) - MAX_DIFF_LINES} more lines"]
    return ResourceChange(item.kind, item.namespace, item.name, diff)


def _git_part(preview: RollbackPreview, commit: str) -> None:
    path = engines.gitops_path()
    if not (path / ".git").exists():
        preview.notes.append("The GitOps clone is not on this machine, so the git change "
                             "cannot be shown.")
        return
    repo = gitops.GitOpsRepo(path, sink=lambda line: None)
    try:
        preview.current_tag = repo.current_tag(preview.service, preview.environment)
        preview.current_revision = repo.head()
        preview.back_to_revision = repo.parent(commit)
        preview.git_diff = repo.revert_diff(commit).splitlines()[:MAX_DIFF_LINES]
    except (RunFailed, ValueError) as exc:
        preview.notes.append(f"The GitOps clone could not be read: {exc}")


def _argocd_part(preview: RollbackPreview) -> None:
    argocd = deploy_status.client(timeout=deploy_status.PAGE_TIMEOUT)
    if argocd is None:
        preview.notes.append("ArgoCD's API is not configured here, so the resources' live "
                             "state cannot be compared.")
        return
    app = gitops.app_name(preview.service, preview.environment)
    try:
        preview.synced_revision = argocd.application(app).revision
        items = argocd.managed_resources(app)
    except (ArgoCDUnavailable, ArgoCDError) as exc:
        preview.notes.append(f"ArgoCD could not be read: {exc}")
        return
    if not (preview.current_tag and preview.back_to_tag):
        return
    preview.resources = [resource_change(item, current_tag=preview.current_tag,
                                         back_to_tag=preview.back_to_tag) for item in items]
    if not any(_uses_tag(item.target_state, preview.current_tag) for item in items):
        preview.notes.append(
            f"No resource ArgoCD wants runs image tag {preview.current_tag} (ArgoCD may not "
            "have picked up the deploy yet), so the resource diffs below show only how the "
            "live state differs from ArgoCD's desired state, not the rollback itself.")


def _uses_tag(state: dict | None, tag: str) -> bool:
    if not state:
        return False
    return _swap_tag(state, tag, f"{tag}-") != state


def preview(*, session: Session, service_slug: str | None,
            environment: str | None) -> RollbackPreview | None:
    """What a rollback of the service in `environment` would change (None: nothing chosen)."""
    if (not service_slug or environment not in ("staging", "prod")
            or not gitops.NAME.match(service_slug)):
        return None
    result = RollbackPreview(service_slug, environment)
    deploy = service.rollback_candidate(session=session, service_slug=service_slug,
                                        environment=environment)
    if deploy is None:
        result.notes.append(f"There is no deploy of {service_slug} to {environment} made "
                            "through the portal to roll back.")
        return result
    result.deploy = deploy
    result.back_to_tag = deploy.result.get("previous_tag")
    _git_part(result, deploy.result["commit"])
    result.current_tag = result.current_tag or deploy.result.get("tag")
    _argocd_part(result)
    return result
