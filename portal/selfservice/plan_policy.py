"""Terraform plans checked by the Rego policies of infra/policies/terraform/ before apply.

The policies run in regopy on `terraform show -json` of the saved plan (Terraform's JSON
plan format); each file is one policy package with a `title`, a `deny` set and optionally
a `warn` set of messages, and `lib.rego` holds their shared helpers. Any deny refuses the
apply; a policy that fails to compile or evaluate fails the job, never passes it.
"""
from __future__ import annotations

import functools
from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.integrations import rego

PLAN_POLICY_ROOT = PROJECT_ROOT / "infra" / "policies" / "terraform"
PLAN_POLICY_LIB = "lib.rego"  # helpers; every other file is a policy defining `deny`


def plan_policy_results(plan: dict, *, root: Path | None = None) -> list[dict]:
    """Each plan policy's verdict on a `terraform show -json` plan: title, deny, warn.

    Raises rego.RegoError when a policy does not compile or evaluate (never a silent pass).
    """
    modules, policies = _plan_policies(tuple(
        (path, path.stat().st_mtime_ns)
        for path in sorted((root or PLAN_POLICY_ROOT).glob("*.rego"))))
    evaluator = rego.Evaluator(modules)
    results = []
    for package in policies:
        title = evaluator.query(f"data.{package}.title", plan)
        warn = evaluator.query(f"data.{package}.warn", plan)
        results.append({
            "policy": package.rsplit(".", 1)[-1],
            "title": title if isinstance(title, str) else package,
            "deny": rego.messages(evaluator.query(f"data.{package}.deny", plan),
                                  f"{package}.deny"),
            "warn": rego.messages(warn, f"{package}.warn") if warn is not None else []})
    return results


@functools.lru_cache(maxsize=4)
def _plan_policies(files: tuple[tuple[Path, int], ...]
                   ) -> tuple[tuple[rego.Module, ...], tuple[str, ...]]:
    # Keyed by the files' mtimes: an edited policy is compiled again on the next plan.
    modules = tuple(rego.module(path.name, path.read_text()) for path, _ in files)
    policies = tuple(m.package for m in modules if m.name != PLAN_POLICY_LIB)
    if not policies:
        raise rego.RegoError("no Terraform plan policy found")
    rego.compile_modules(modules, tuple(f"{p}.deny" for p in policies))
    return modules, policies


def plan_denials(results: list[dict]) -> list[str]:
    """The deny messages of plan policy results (any one refuses the apply)."""
    return [message for result in results for message in result["deny"]]
