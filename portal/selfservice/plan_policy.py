"""Terraform plans checked by the Rego policies of infra/policies/terraform/ before apply.

The policies run in regopy on `terraform show -json` of the saved plan (Terraform's JSON
plan format); each file is one policy package with a `title`, a `deny` set and optionally
a `warn` set of messages, and `lib.rego` holds their shared helpers. Any deny refuses the
apply; a policy that fails to compile or evaluate fails the job, never passes it.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.integrations import rego

PLAN_POLICY_ROOT = PROJECT_ROOT / "infra" / "policies" / "terraform"
PLAN_POLICY_LIB = "lib.rego"  # helpers; every other file is a policy defining `deny`


def plan_policy_results(plan: dict, *, root: Path | None = None) -> list[dict]:
    """Each plan policy's verdict on a `terraform show -json` plan: title, deny, warn.

    Raises rego.RegoError when a policy does not compile or evaluate (never a silent pass).
    """
    modules, policies, query = _plan_policies(tuple(
        (path, path.stat().st_mtime_ns)
        for path in sorted((root or PLAN_POLICY_ROOT).glob("*.rego"))))
    # One query for every verdict: each query converts the whole plan document and
    # evaluates the program again, which costs more than the rules themselves.
    verdicts = rego.Evaluator(modules).query(query, plan)
    if not isinstance(verdicts, dict):
        raise rego.RegoError("the plan policies gave no verdict: every policy must define "
                             "`deny` (and its `title` and `warn`, when present, must be "
                             "defined for any plan)")
    results = []
    for package in policies:
        verdict = verdicts.get(package, {})
        results.append({
            "policy": package.rsplit(".", 1)[-1],
            "title": verdict.get("title") if isinstance(verdict.get("title"), str)
            else package,
            "deny": rego.messages(verdict.get("deny"), f"{package}.deny"),
            "warn": rego.messages(verdict["warn"], f"{package}.warn")
            if "warn" in verdict else []})
    return results


@functools.lru_cache(maxsize=4)
def _plan_policies(files: tuple[tuple[Path, int], ...]
                   ) -> tuple[tuple[rego.Module, ...], tuple[str, ...], str]:
    # Keyed by the files' mtimes: an edited policy is compiled again on the next plan.
    modules = tuple(rego.module(path.name, path.read_text()) for path, _ in files)
    policies = tuple(m for m in modules if m.name != PLAN_POLICY_LIB)
    if not policies:
        raise rego.RegoError("no Terraform plan policy found")
    for policy in policies:
        if not _defines(policy, "deny"):
            raise rego.RegoError(f"{policy.name}: {policy.package} defines no `deny` rule")
    packages = tuple(m.package for m in policies)
    rego.compile_modules(modules, tuple(f"{p}.deny" for p in packages))
    return modules, packages, _verdict_query(policies)


def _verdict_query(policies: tuple[rego.Module, ...]) -> str:
    """An object of every policy's title, deny and warn, as one Rego expression."""
    entries = []
    for policy in policies:
        fields = [f'"deny": data.{policy.package}.deny']
        fields += [f'"{rule}": data.{policy.package}.{rule}' for rule in ("title", "warn")
                   if _defines(policy, rule)]
        entries.append(f'"{policy.package}": {{{", ".join(fields)}}}')
    return "{" + ", ".join(entries) + "}"


def _defines(policy: rego.Module, rule: str) -> bool:
    return re.search(rf"^{rule}\b", policy.source, re.MULTILINE) is not None


def plan_denials(results: list[dict]) -> list[str]:
    """The deny messages of plan policy results (any one refuses the apply)."""
    return [message for result in results for message in result["deny"]]
