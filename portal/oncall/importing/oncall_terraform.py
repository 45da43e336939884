"""Read Grafana OnCall's Terraform configuration (the grafana provider's `grafana_oncall_*`
resources) into the same API-shaped objects the HTTP client reads.

Files are parsed with python-hcl2, never run. A resource's id is its Terraform address
(`grafana_oncall_on_call_shift.day`), so `grafana_oncall_on_call_shift.day.id` in another
resource resolves to it; people come from `data "grafana_oncall_user"` blocks by `email`,
or by `username` plus the e-mail domain the importer was given. Constant arithmetic
(`60 * 60 * 8`) is evaluated; any other expression (variables, functions, for_each) makes
its resource unmapped with the reason.
"""
from __future__ import annotations

import ast
import operator
import re
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from portal.oncall.importing.oncall_plan import OnCallObjects, build_plan
from portal.oncall.importing.plan import Unmapped

MAX_FILE_BYTES = 512_000
MAX_TOTAL_BYTES = 2_000_000
MAX_FILES = 20
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False,
                               preserve_heredocs=False, strip_string_quotes=True)
REFERENCE = re.compile(r"(data\.)?(grafana_oncall_[a-z_]+)\.([A-Za-z0-9_-]+)\.id")
ARITHMETIC = re.compile(r"[0-9\s+\-*/().]{1,100}")
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv}
DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


class TerraformError(ValueError):
    """The files cannot be read; the message is safe to show."""


class Unresolvable(ValueError):
    """An expression that only Terraform itself could evaluate."""


def _arithmetic(node: ast.AST) -> int | float:
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arithmetic(node.operand)
    raise Unresolvable("arithmetic")


def resolve(value: Any) -> Any:
    """A parsed HCL value with references to grafana_oncall_* objects made into their ids."""
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    if not (value.startswith("${") and value.endswith("}")):
        raise Unresolvable(value)
    expr = value[2:-1].strip()
    if match := REFERENCE.fullmatch(expr):
        return f"{match.group(1) or ''}{match.group(2)}.{match.group(3)}"
    if ARITHMETIC.fullmatch(expr):
        try:
            number = _arithmetic(ast.parse(expr, mode="eval"))
        except (SyntaxError, Unresolvable, ZeroDivisionError, RecursionError) as exc:
            raise Unresolvable(expr) from exc
        return int(number) if float(number).is_integer() else number
    raise Unresolvable(expr)


def parse_files(files: list[tuple[str, bytes]]) -> list[dict]:
    """Each file parsed (size, encoding and syntax checked), or TerraformError."""
    if not files:
        raise TerraformError("Choose at least one .tf file.")
    if len(files) > MAX_FILES:
        raise TerraformError(f"Upload at most {MAX_FILES} files.")
    if sum(len(data) for _, data in files) > MAX_TOTAL_BYTES:
        raise TerraformError("The files are larger than 2 MB together.")
    parsed = []
    for name, data in files:
        shown = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "file"
        if not shown.endswith(".tf"):
            raise TerraformError(f"{shown} is not a .tf file.")
        if len(data) > MAX_FILE_BYTES:
            raise TerraformError(f"{shown} is larger than 500 kB.")
        if b"\x00" in data:
            raise TerraformError(f"{shown} contains NUL bytes; it is not a text file.")
        try:
            parsed.append(hcl2.loads(data.decode("utf-8"), serialization_options=OPTIONS))
        except UnicodeDecodeError as exc:
            raise TerraformError(f"{shown} is not UTF-8 text.") from exc
        except Exception as exc:  # the parser raises many kinds; all mean "not valid HCL"
            raise TerraformError(f"{shown} is not valid HCL: "
                                 f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") \
                from exc
    return parsed


def _blocks(documents: list[dict], section: str) -> list[tuple[str, str, dict]]:
    found = []
    for document in documents:
        for entry in document.get(section, []) or []:
            for kind, named in (entry or {}).items():
                for name, body in (named or {}).items():
                    if isinstance(body, dict):
                        found.append((kind, name, body))
    return found


def _user(name: str, body: dict, domain: str | None) -> dict | str:
    address = f"data.grafana_oncall_user.{name}"
    email, username = body.get("email"), body.get("username")
    if isinstance(email, str) and "@" in email:
        return {"id": address, "email": email, "username": username or email, "teams": []}
    if isinstance(username, str) and "@" in username:
        return {"id": address, "email": username, "username": username, "teams": []}
    if isinstance(username, str) and domain:
        return {"id": address, "email": f"{username}@{domain}", "username": username,
                "teams": []}
    return (f"Not imported: user {username or name!r} is named by username only; give the "
            "e-mail domain of usernames to import it.")


def read_terraform(files: list[tuple[str, bytes]], *,
                   email_domain: str | None = None) -> tuple[OnCallObjects, list[Unmapped]]:
    """The Grafana OnCall objects the files declare, and what could not be read."""
    domain = (email_domain or "").strip().lower().lstrip("@") or None
    if domain is not None and not DOMAIN.fullmatch(domain[:253]):
        raise TerraformError("The e-mail domain must look like example.com.")
    documents = parse_files(files)
    objects, unmapped = OnCallObjects(), []
    for kind, name, body in _blocks(documents, "data"):
        if kind == "grafana_oncall_user":
            user = _user(name, body, domain)
            if isinstance(user, str):
                unmapped.append(Unmapped("user", f"data.{kind}.{name}", name, user))
            else:
                objects.users.append(user)
        elif kind == "grafana_oncall_team":
            objects.teams.append({"id": f"data.{kind}.{name}", "name": body.get("name", name)})
    targets = {"grafana_oncall_schedule": objects.schedules,
               "grafana_oncall_on_call_shift": objects.shifts,
               "grafana_oncall_escalation_chain": objects.chains,
               "grafana_oncall_escalation": objects.policies,
               "grafana_oncall_integration": objects.integrations,
               "grafana_oncall_route": objects.routes}
    for kind, name, body in _blocks(documents, "resource"):
        if kind not in targets:
            continue
        address = f"{kind}.{name}"
        if "for_each" in body or "count" in body:
            unmapped.append(Unmapped(kind, address, name, "Not imported: resources repeated "
                                     "with for_each or count need Terraform to expand them."))
            continue
        try:
            attrs = {k: resolve(v) for k, v in body.items()}
        except Unresolvable as exc:
            unmapped.append(Unmapped(kind, address, name, "Not imported: the expression "
                                     f"{str(exc)[:80]!r} needs Terraform to evaluate it."))
            continue
        if kind == "grafana_oncall_integration":
            route = attrs.get("default_route")
            route = route[0] if isinstance(route, list) and route else route or {}
            attrs["default_route"] = {**route, "id": f"{address}.default_route"}
        targets[kind].append({**attrs, "id": address})
    return objects, unmapped


def plan_from_terraform(files: list[tuple[str, bytes]], *, email_domain: str | None = None):
    """The import plan of Terraform files (TerraformError when they cannot be read)."""
    objects, unmapped = read_terraform(files, email_domain=email_domain)
    plan = build_plan(objects)
    plan.unmapped[:0] = unmapped
    return plan
