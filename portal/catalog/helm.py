"""A chart of infra/helm/ rendered by the real Helm into Kubernetes objects, for the scorecards.

The values are the chart's values.yaml (its production defaults), the release is named after
the chart and installed into the namespace those values name, as ArgoCD renders it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from portal.catalog import file_stamps, policies
from portal.integrations import helm


class ChartError(ValueError):
    """The chart is missing, or Helm refused to render it; the message says why."""


@dataclass(frozen=True)
class Chart:
    name: str
    path: Path
    values: dict
    objects: list[dict]

    @functools.cached_property
    def digest(self) -> str:
        """A fingerprint of the rendered objects: a scorecard judges them against a dozen
        policies, whose verdicts are kept by it (see portal.catalog.policies)."""
        return policies.objects_digest(self.objects)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ChartError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise ChartError(f"{path.name} is not a YAML mapping")
    return data


def load_chart(path: Path) -> Chart:
    """Render the chart with `helm template` into its Kubernetes objects."""
    if not (path / "Chart.yaml").is_file():
        raise ChartError(f"no chart at {path.name}/ (Chart.yaml missing)")
    # Running helm costs a fraction of a second and charts change only with a commit.
    return _rendered_chart(path, file_stamps.of_tree(path))


@functools.lru_cache(maxsize=64)
def _rendered_chart(path: Path, files: file_stamps.Stamp) -> Chart:
    meta = _read_yaml(path / "Chart.yaml")
    values = _read_yaml(path / "values.yaml") if (path / "values.yaml").exists() else {}
    name = str(meta.get("name") or path.name)
    try:
        objects = helm.template(path, release=name,
                                namespace=str(values.get("namespace", "default")))
    except helm.HelmError as exc:
        raise ChartError(str(exc)) from exc
    return Chart(name=name, path=path, values=values, objects=objects)
