"""Chaos Mesh manifests of game days, rendered from validated values only.

PodChaos `pod-kill` and NetworkChaos `delay` (direction `to`, the dependency as
`target`) with the fields Chaos Mesh documents for `chaos-mesh.org/v1alpha1`. Services
run in one namespace per environment and carry the Helm chart's standard
`app.kubernetes.io/name` label, which is what the selectors match on.
"""
from __future__ import annotations

import re

import yaml

API_VERSION = "chaos-mesh.org/v1alpha1"
CHAOS_NAMESPACE = "chaos-mesh"
APP_LABEL = "app.kubernetes.io/name"
NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
MODES = ("one", "all")


def namespace(environment: str) -> str:
    """The Kubernetes namespace Argo CD deploys an environment's services into."""
    return f"meridian-{environment}"


def manifest_path(environment: str, name: str) -> str:
    """Where the experiment's manifest lives in the GitOps repo."""
    _check_name(name)
    return f"chaos/{environment}/{name}.yaml"


def _check_name(value: str) -> None:
    # Every value is validated before it gets here; this is the last line before git.
    if not NAME.fullmatch(value):
        raise ValueError(f"invalid Kubernetes name {value!r}")


def _selector(environment: str, service: str) -> dict:
    _check_name(service)
    return {"namespaces": [namespace(environment)], "labelSelectors": {APP_LABEL: service}}


def pod_kill(*, name: str, environment: str, service: str, mode: str,
             duration_minutes: int) -> dict:
    """A PodChaos killing the service's pods (one or all) during the window."""
    _check_name(name)
    if mode not in MODES:
        raise ValueError(f"invalid mode {mode!r}")
    return {"apiVersion": API_VERSION, "kind": "PodChaos",
            "metadata": _metadata(name, service),
            "spec": {"action": "pod-kill", "mode": mode,
                     "selector": _selector(environment, service),
                     "duration": f"{int(duration_minutes)}m"}}


def network_delay(*, name: str, environment: str, service: str, target: str, mode: str,
                  latency_ms: int, jitter_ms: int, duration_minutes: int) -> dict:
    """A NetworkChaos delaying the service's traffic to one of its dependencies."""
    _check_name(name)
    if mode not in MODES:
        raise ValueError(f"invalid mode {mode!r}")
    return {"apiVersion": API_VERSION, "kind": "NetworkChaos",
            "metadata": _metadata(name, service),
            "spec": {"action": "delay", "mode": mode,
                     "selector": _selector(environment, service),
                     "delay": {"latency": f"{int(latency_ms)}ms",
                               "jitter": f"{int(jitter_ms)}ms"},
                     "direction": "to",
                     "target": {"mode": "all", "selector": _selector(environment, target)},
                     "duration": f"{int(duration_minutes)}m"}}


def _metadata(name: str, service: str) -> dict:
    return {"name": name, "namespace": CHAOS_NAMESPACE,
            "labels": {"portal.meridian.io/gameday": name, APP_LABEL: service}}


def dump(manifest: dict) -> str:
    """The manifest as the YAML document committed to the GitOps repo."""
    return yaml.safe_dump(manifest, sort_keys=False)
