"""Seed 000's Gatekeeper policies, evaluated against the objects a Helm chart renders.

Each function takes the chart's rendered objects and returns the list of violations in
words (empty = compliant), so a failed scorecard check can say exactly what is wrong.
"""
from __future__ import annotations

APPROVED_REGISTRY = "ghcr.io/meridian/"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def workloads(objects: list[dict]) -> list[dict]:
    """The objects that run pods."""
    return [o for o in objects if o.get("kind") in WORKLOAD_KINDS]


def _name(obj: dict) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '?')}"


def _pod_spec(workload: dict) -> dict:
    return ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}


def _pod_labels(workload: dict) -> dict:
    template = (workload.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def _containers(workload: dict) -> list[tuple[str, dict]]:
    spec = _pod_spec(workload)
    return [(f"{_name(workload)} container {c.get('name', '?')}", c)
            for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def _selects(selector: dict | None, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in match.items())


def non_root(objects: list[dict]) -> list[str]:
    """Containers must run as non-root (runAsNonRoot true, runAsUser not 0)."""
    problems = []
    for workload in workloads(objects):
        pod = _pod_spec(workload).get("securityContext") or {}
        for where, container in _containers(workload):
            ctx = {**pod, **(container.get("securityContext") or {})}
            if ctx.get("runAsUser") == 0:
                problems.append(f"{where} sets runAsUser: 0")
            elif ctx.get("runAsNonRoot") is not True:
                problems.append(f"{where} does not set runAsNonRoot: true")
    return problems


def not_privileged(objects: list[dict]) -> list[str]:
    """No privileged containers."""
    return [f"{where} is privileged" for w in workloads(objects)
            for where, c in _containers(w) if (c.get("securityContext") or {}).get("privileged")]


def resource_limits(objects: list[dict]) -> list[str]:
    """Every container declares CPU and memory limits."""
    problems = []
    for workload in workloads(objects):
        for where, container in _containers(workload):
            limits = (container.get("resources") or {}).get("limits") or {}
            missing = [r for r in ("cpu", "memory") if not limits.get(r)]
            if missing:
                problems.append(f"{where} has no {' and '.join(missing)} limit")
    return problems


def _split_image(image: str) -> tuple[str, str | None]:
    if "@" in image:
        return image.split("@", 1)[0], "digest"
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return image.rsplit(":", 1)[0], image.rsplit(":", 1)[1]
    return image, None


def no_latest_tag(objects: list[dict]) -> list[str]:
    """Images are pinned to a tag or digest other than `latest`."""
    problems = []
    for workload in workloads(objects):
        for where, container in _containers(workload):
            _, tag = _split_image(str(container.get("image") or ""))
            if tag in (None, "", "latest"):
                problems.append(f"{where} uses image {container.get('image')!r} "
                                f"({'no tag' if not tag else 'the latest tag'})")
    return problems


def approved_registry(objects: list[dict]) -> list[str]:
    """Images come only from the approved registry ghcr.io/meridian/*."""
    return [f"{where} pulls {c.get('image')!r}, outside {APPROVED_REGISTRY}*"
            for w in workloads(objects) for where, c in _containers(w)
            if not str(c.get("image") or "").startswith(APPROVED_REGISTRY)]


def network_policy(objects: list[dict]) -> list[str]:
    """A NetworkPolicy selects the pods of every workload."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    return [f"no NetworkPolicy selects the pods of {_name(w)}" for w in workloads(objects)
            if not any(_selects((p.get("spec") or {}).get("podSelector"), _pod_labels(w))
                       for p in policies)]


def disruption_budget(objects: list[dict]) -> list[str]:
    """A PodDisruptionBudget covers every workload with more than one replica."""
    budgets = [o for o in objects if o.get("kind") == "PodDisruptionBudget"]
    problems = []
    for workload in workloads(objects):
        replicas = (workload.get("spec") or {}).get("replicas", 1)
        if isinstance(replicas, int) and replicas > 1 and not any(
                _selects((b.get("spec") or {}).get("selector"), _pod_labels(workload))
                for b in budgets):
            problems.append(f"{_name(workload)} runs {replicas} replicas without a "
                            "PodDisruptionBudget")
    return problems


def probes(objects: list[dict]) -> list[str]:
    """Every long-running container has liveness, readiness and startup probes."""
    problems = []
    for workload in workloads(objects):
        for container in _pod_spec(workload).get("containers") or []:
            missing = [p for p in ("livenessProbe", "readinessProbe", "startupProbe")
                       if not container.get(p)]
            if missing:
                problems.append(f"{_name(workload)} container {container.get('name', '?')} "
                                f"lacks {', '.join(missing)}")
    return problems
