"""OPA Rego policies evaluated in-process with regopy (the rego-cpp interpreter).

Two uses: Gatekeeper ConstraintTemplates run against Kubernetes objects exactly as the
admission webhook would feed them (`input.review`, `input.parameters`, referential data
under `data.inventory`), and plain policy modules queried with any input document (the
Terraform plan checks). rego-cpp speaks Rego v1, so the policies import `rego.v1`, which
the OPA inside Gatekeeper understands too. Any compile or evaluation error raises
`RegoError` with the interpreter's message: a broken policy never passes silently.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import regopy
import yaml
from regopy.rego_shared import rego_node_value

GATEKEEPER_TARGET = "admission.k8s.gatekeeper.sh"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)\s*$", re.MULTILINE)


class RegoError(ValueError):
    """A policy does not load, compile or evaluate; the message says which and why."""


@dataclass(frozen=True)
class Module:
    """One Rego source file: its name (for error locations), package and text."""
    name: str
    package: str
    source: str


def module(name: str, source: str) -> Module:
    """A module, its package read from the source."""
    found = _PACKAGE.search(source)
    if not found:
        raise RegoError(f"{name}: no `package` declaration")
    return Module(name=name, package=found.group(1), source=source)


def compile_modules(modules: tuple[Module, ...], entrypoints: tuple[str, ...]) -> None:
    """Compile the modules once so syntax and type errors surface at load time."""
    interpreter = _interpreter(modules, data=None)
    try:
        interpreter.build(None, [e.replace(".", "/") for e in entrypoints])
    except regopy.RegoError as exc:
        raise RegoError(f"{', '.join(m.name for m in modules)}: {exc}") from exc


def _interpreter(modules: tuple[Module, ...], data: dict | None) -> regopy.Interpreter:
    interpreter = regopy.Interpreter()
    # By default a failing built-in (sprintf on a number, ...) turns a rule undefined, which
    # for a deny rule means "no violation"; forwarding the error keeps failures visible.
    interpreter.strict_built_in_errors = True
    try:
        for item in modules:
            interpreter.add_module(item.name, item.source)
        if data is not None:
            interpreter.add_data(data)
    except regopy.RegoError as exc:
        raise RegoError(f"{', '.join(m.name for m in modules)}: {exc}") from exc
    return interpreter


class Evaluator:
    """Modules and base data loaded once, queried with one input document after another."""

    def __init__(self, modules: tuple[Module, ...], data: dict | None = None):
        self.modules = modules
        self._interpreter = _interpreter(modules, data)

    def query(self, ref: str, input_document) -> object:
        """The value of `ref` (e.g. `data.pkg.deny`) for this input; None when undefined."""
        try:
            self._interpreter.set_input(input_document)
            output = self._interpreter.query(ref)
        except (regopy.RegoError, ValueError) as exc:  # ValueError: unreadable result JSON
            raise RegoError(f"{ref}: {exc}") from exc
        if not output.ok():
            raise RegoError(f"{ref}: {_errors(output)}")
        expressions = output[0].expressions if len(output) else []
        return expressions[0] if expressions else None


def _errors(output: regopy.Output) -> str:
    errors = output.node()
    messages = []
    for i in range(len(errors)):
        error = errors.at(i)
        messages.append(f"{rego_node_value(error.at(0)._impl)} "
                        f"({rego_node_value(error.at(2)._impl)})")
    return "; ".join(messages) or "evaluation failed"


def messages(value, rule: str) -> list[str]:
    """The messages of a violation/deny set: strings, or objects with a `msg`."""
    if value is None:
        raise RegoError(f"{rule} is not defined by the policy")
    if not isinstance(value, list):
        raise RegoError(f"{rule} must be a set of messages, got {type(value).__name__}")
    found = []
    for item in value:
        text = item.get("msg") if isinstance(item, dict) else item
        if not isinstance(text, str):
            raise RegoError(f"{rule} produced {item!r}, which has no message")
        found.append(text)
    return sorted(found)


@dataclass(frozen=True)
class ConstraintTemplate:
    """A Gatekeeper ConstraintTemplate: the constraint kind it defines and its Rego."""
    name: str
    kind: str
    modules: tuple[Module, ...]  # the template's rego first, then its libs

    @property
    def package(self) -> str:
        return self.modules[0].package


@dataclass(frozen=True)
class Constraint:
    """A Gatekeeper Constraint: which template, which objects, with which parameters."""
    kind: str
    name: str
    enforcement: str
    match_kinds: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (apiGroups, kinds)
    namespaces: tuple[str, ...]
    excluded_namespaces: tuple[str, ...]
    parameters_json: str  # kept as text so a constraint is hashable (a cache key)

    @property
    def parameters(self) -> dict:
        return json.loads(self.parameters_json)

    def matches(self, obj: dict, *, namespace: str = "default") -> bool:
        """Whether Gatekeeper would send this object to the constraint."""
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        kind_ok = not self.match_kinds or any(
            (group in groups or "*" in groups) and (obj.get("kind") in kinds or "*" in kinds)
            for groups, kinds in self.match_kinds)
        ns = _namespace(obj, namespace)
        return (kind_ok and (not self.namespaces or ns in self.namespaces)
                and ns not in self.excluded_namespaces)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RegoError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise RegoError(f"{path.name} is not a YAML mapping")
    return data


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise RegoError(f"{path.name}: {exc.strerror}") from exc


def load_template(path: Path) -> ConstraintTemplate:
    """A ConstraintTemplate file, compiled (cached until the file changes)."""
    return _template(path, _stamp(path))


@functools.lru_cache(maxsize=64)
def _template(path: Path, mtime_ns: int) -> ConstraintTemplate:
    data = _read_yaml(path)
    if data.get("kind") != "ConstraintTemplate":
        raise RegoError(f"{path.name} is a {data.get('kind')!r}, not a ConstraintTemplate")
    spec = data.get("spec") or {}
    kind = (((spec.get("crd") or {}).get("spec") or {}).get("names") or {}).get("kind")
    targets = [t for t in spec.get("targets") or [] if t.get("target") == GATEKEEPER_TARGET]
    if not kind or not targets or not targets[0].get("rego"):
        raise RegoError(f"{path.name}: needs spec.crd.spec.names.kind and a "
                        f"{GATEKEEPER_TARGET} target with rego")
    target = targets[0]
    modules = (module(path.name, target["rego"]),) + tuple(
        module(f"{path.name} lib {i}", lib) for i, lib in enumerate(target.get("libs") or []))
    template = ConstraintTemplate(name=str((data.get("metadata") or {}).get("name")),
                                  kind=kind, modules=modules)
    compile_modules(modules, (f"{template.package}.violation",))
    return template


def load_constraint(path: Path) -> Constraint:
    """A Constraint file (cached until the file changes)."""
    return _constraint(path, _stamp(path))


@functools.lru_cache(maxsize=64)
def _constraint(path: Path, mtime_ns: int) -> Constraint:
    data = _read_yaml(path)
    spec = data.get("spec") or {}
    match = spec.get("match") or {}
    kinds = tuple((tuple(k.get("apiGroups") or [""]), tuple(k.get("kinds") or []))
                  for k in match.get("kinds") or [])
    return Constraint(kind=str(data.get("kind")),
                      name=str((data.get("metadata") or {}).get("name")),
                      enforcement=str(spec.get("enforcementAction", "deny")),
                      match_kinds=kinds, namespaces=tuple(match.get("namespaces") or ()),
                      excluded_namespaces=tuple(match.get("excludedNamespaces") or ()),
                      parameters_json=json.dumps(spec.get("parameters") or {}, sort_keys=True))


def _namespace(obj: dict, default: str) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or default)


def inventory(objects: list[dict], *, namespace: str = "default") -> dict:
    """Gatekeeper's replicated data: inventory.namespace[ns][apiVersion][kind][name].

    Objects without a namespace are placed in `namespace`, as a release installs them;
    cluster-scoped kinds are not told apart here since charts render namespaced objects.
    """
    found: dict = {"cluster": {}, "namespace": {}}
    for obj in objects:
        name = (obj.get("metadata") or {}).get("name")
        if not name or not obj.get("kind") or not obj.get("apiVersion"):
            continue
        ns = found["namespace"].setdefault(_namespace(obj, namespace), {})
        ns.setdefault(str(obj["apiVersion"]), {}).setdefault(str(obj["kind"]), {})[
            str(name)] = obj
    return found


def review(obj: dict, *, namespace: str = "default") -> dict:
    """The AdmissionReview request Gatekeeper puts under input.review for a CREATE."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    return {"kind": {"group": group, "version": version, "kind": obj.get("kind")},
            "name": (obj.get("metadata") or {}).get("name"),
            "namespace": _namespace(obj, namespace), "operation": "CREATE", "object": obj}


def violations(template: ConstraintTemplate, constraint: Constraint, objects: list[dict], *,
               namespace: str = "default", data_inventory: dict | None = None) -> list[str]:
    """The messages the constraint gives for the objects it matches, as Gatekeeper would."""
    if constraint.kind != template.kind:
        raise RegoError(f"constraint {constraint.name} is a {constraint.kind}, "
                        f"not a {template.kind}")
    inv = inventory(objects, namespace=namespace) if data_inventory is None else data_inventory
    evaluator = Evaluator(template.modules, {"inventory": inv})
    rule = f"data.{template.package}.violation"
    found = []
    for obj in objects:
        if constraint.matches(obj, namespace=namespace):
            found += messages(evaluator.query(rule, {
                "review": review(obj, namespace=namespace),
                "parameters": constraint.parameters}), rule)
    return found
