"""Render a Helm chart of infra/helm/ into Kubernetes objects, without a Helm binary.

No `helm` executable is installed on these machines (nor reachable as a package), so the
scorecards render charts with this small evaluator of the Go-template subset our charts use,
and refuse anything else with a `ChartError` (a failed check, never a silent pass):

- `{{ .Values.a.b }}`, `{{ .Chart.Name }}`, `{{ .Chart.Version }}`, `{{ .Chart.AppVersion }}`,
  `{{ .Release.Name }}` (= the chart name), `{{ .Release.Namespace }}` (= values `namespace`);
- pipelines through `quote`, `toYaml`, `nindent N`, `indent N`;
- `{{ if X }} ... {{ else }} ... {{ end }}` where X is a value path or `gt (int .Values.p) N`;
- `{{/* comments */}}` and whitespace trimming with `{{-` / `-}}`.

The values are the chart's values.yaml (its production defaults). `helm template` gives the
same objects for these charts; the evaluator exists so the check runs where Helm does not.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)
_GT = re.compile(r"^gt \(int (\.[\w.]+)\) (\d+)$")


class ChartError(ValueError):
    """The chart is missing, invalid, or uses template syntax the evaluator does not know."""


@dataclass(frozen=True)
class Chart:
    name: str
    path: Path
    values: dict
    objects: list[dict]


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split a template into ('text', s) and ('action', expr) tokens, applying trim markers."""
    out: list[tuple[str, str]] = []
    pos, trim_next = 0, False
    for match in _ACTION.finditer(text):
        chunk = text[pos:match.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if match.group(1):
            chunk = chunk.rstrip()
        out.append(("text", chunk))
        out.append(("action", match.group(2)))
        pos, trim_next = match.end(), bool(match.group(3))
    tail = text[pos:]
    out.append(("text", tail.lstrip() if trim_next else tail))
    return out


def _lookup(path: str, scope: dict):
    parts = path.lstrip(".").split(".")
    node = scope
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _to_yaml(value) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _pipe(value, stage: str):
    name, _, arg = stage.partition(" ")
    if name == "quote":
        return '"' + str("" if value is None else value).replace('"', '\\"') + '"'
    if name == "toYaml":
        return _to_yaml(value)
    if name in ("nindent", "indent") and arg.strip().isdigit():
        pad = " " * int(arg)
        body = "\n".join(pad + line for line in str(value).splitlines())
        return "\n" + body if name == "nindent" else body
    raise ChartError(f"unsupported template function {stage!r}")


def _evaluate(expr: str, scope: dict):
    head, *stages = [part.strip() for part in expr.split("|")]
    func, _, argument = head.partition(" ")
    if func in ("toYaml", "quote") and argument:  # `toYaml .Values.x` == `.Values.x | toYaml`
        head, stages = argument.strip(), [func, *stages]
    if not re.fullmatch(r"\.[\w.]+", head):
        raise ChartError(f"unsupported template expression {expr!r}")
    value = _lookup(head, scope)
    for stage in stages:
        value = _pipe(value, stage)
    return value


def _condition(expr: str, scope: dict) -> bool:
    gt = _GT.match(expr)
    if gt:
        return int(_lookup(gt.group(1), scope) or 0) > int(gt.group(2))
    if re.fullmatch(r"\.[\w.]+", expr):
        return bool(_lookup(expr, scope))
    raise ChartError(f"unsupported condition {expr!r}")


def render_template(text: str, scope: dict) -> str:
    """Evaluate one template file against `scope` (keys Values, Chart, Release)."""
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (parent emitting, this branch emitting)
    emitting = True
    for kind, value in _tokens(text):
        if kind == "text":
            if emitting:
                out.append(value)
        elif value.startswith("/*"):
            continue
        elif value.startswith("if "):
            stack.append((emitting, emitting and _condition(value[3:].strip(), scope)))
            emitting = stack[-1][1]
        elif value == "else":
            if not stack:
                raise ChartError("`else` without `if`")
            parent, taken = stack[-1]
            emitting = parent and not taken
        elif value == "end":
            if not stack:
                raise ChartError("`end` without `if`")
            emitting = stack.pop()[0]
        elif emitting:
            result = _evaluate(value, scope)
            out.append("" if result is None else str(result))
    if stack:
        raise ChartError("`if` without `end`")
    return "".join(out)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ChartError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise ChartError(f"{path.name} is not a YAML mapping")
    return data


def load_chart(path: Path) -> Chart:
    """Read Chart.yaml and values.yaml and render every template into Kubernetes objects."""
    if not (path / "Chart.yaml").is_file():
        raise ChartError(f"no chart at {path.name}/ (Chart.yaml missing)")
    # Rendering costs tens of milliseconds and charts change only with a commit.
    files = tuple((f, f.stat().st_mtime_ns) for f in sorted(path.rglob("*")) if f.is_file())
    return _rendered_chart(path, files)


@functools.lru_cache(maxsize=64)
def _rendered_chart(path: Path, files: tuple[tuple[Path, int], ...]) -> Chart:
    meta = _read_yaml(path / "Chart.yaml")
    values = _read_yaml(path / "values.yaml") if (path / "values.yaml").exists() else {}
    scope = {"Values": values,
             "Chart": {"Name": meta.get("name"), "Version": meta.get("version"),
                       "AppVersion": meta.get("appVersion")},
             "Release": {"Name": meta.get("name"),
                         "Namespace": values.get("namespace", "default")}}
    objects: list[dict] = []
    for template in sorted((path / "templates").glob("*.yaml")):
        rendered = render_template(template.read_text(), scope)
        try:
            docs = list(yaml.safe_load_all(rendered))
        except yaml.YAMLError as exc:
            raise ChartError(f"templates/{template.name} renders invalid YAML: {exc}") from exc
        objects += [doc for doc in docs if isinstance(doc, dict)]
    return Chart(name=str(meta.get("name")), path=path, values=values, objects=objects)
