"""The Gatekeeper policies of infra/gatekeeper/, evaluated against the objects a chart renders.

Each policy is a ConstraintTemplate plus the Constraint that enforces it in the clusters;
both files are read as they are and their Rego runs in regopy, with the chart's objects as
the admission requests and as Gatekeeper's replicated inventory. A violation names the
object and container and what is wrong, so a failed scorecard check says exactly that.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.integrations import rego

GATEKEEPER_ROOT = PROJECT_ROOT / "infra" / "gatekeeper"
_MAX_VERDICTS = 1024
_verdicts: dict[tuple, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Policy:
    id: str
    template: str  # file under templates/
    constraint: str  # file under constraints/


POLICIES = {p.id: p for p in (
    Policy("non_root", "k8srequirednonroot.yaml", "non-root.yaml"),
    Policy("not_privileged", "k8snoprivilegedcontainers.yaml", "not-privileged.yaml"),
    Policy("resource_limits", "k8srequiredresourcelimits.yaml", "resource-limits.yaml"),
    Policy("no_latest_tag", "k8snolatesttag.yaml", "no-latest-tag.yaml"),
    Policy("approved_registry", "k8sapprovedregistry.yaml", "approved-registry.yaml"),
    Policy("network_policy", "k8srequirednetworkpolicy.yaml", "network-policy.yaml"),
    Policy("disruption_budget", "k8srequiredpoddisruptionbudget.yaml",
           "disruption-budget.yaml"),
    Policy("probes", "k8srequiredprobes.yaml", "probes.yaml"),
    Policy("egress_policy", "k8srequiredegresspolicy.yaml", "egress-policy.yaml"),
    Policy("autoscaler", "k8srequiredautoscaler.yaml", "autoscaler.yaml"),
)}


def objects_digest(objects: list[dict]) -> str:
    """A fingerprint of Kubernetes objects, by their content."""
    return hashlib.sha256(json.dumps(objects, sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=64)
def _files(policy_id: str, root: Path) -> tuple[Path, Path]:
    # A scorecard asks for every policy on each view: joining the same paths again cost
    # more than looking their verdicts up.
    policy = POLICIES[policy_id]
    return root / "templates" / policy.template, root / "constraints" / policy.constraint


def violations(policy_id: str, objects: list[dict], *, namespace: str = "default",
               root: Path | None = None, digest: str | None = None) -> list[str]:
    """The policy's violation messages for the objects (empty = compliant); `digest`, when
    given, is `objects_digest(objects)` computed once for several policies.

    Raises rego.RegoError when the policy files do not load or their Rego fails.
    """
    template_path, constraint_path = _files(policy_id, root or GATEKEEPER_ROOT)
    template = rego.load_template(template_path)
    constraint = rego.load_constraint(constraint_path)
    # A scorecard page evaluates every chart; the verdict changes only with the policy
    # files (reloaded when their mtime changes) or the rendered objects.
    key = (template, constraint, namespace, digest or objects_digest(objects))
    if key not in _verdicts:
        if len(_verdicts) >= _MAX_VERDICTS:
            _verdicts.clear()
        _verdicts[key] = tuple(rego.violations(template, constraint, objects,
                                               namespace=namespace))
    return list(_verdicts[key])
