"""Plan review cost per plan: the Rego plan policies and the attribute diff, on a real plan.

Run: .venv/bin/python tests/bench/bench_plan_policy.py [--resources 200] [--rounds 15]

A Terraform config of RESOURCES `terraform_data` resources shaped like the platform
module's (nested input, four cost tags, some sensitive values, a few untagged) is planned
by the real Terraform engine; `terraform show -json` of that plan is the input. Each
round times, interleaved on the same document: json.loads of the plan text (baseline: the
least any consumer of the plan pays), the Rego evaluation of every plan policy
(portal.selfservice.plan_policy, compiled once and cached as in the worker) and the
attribute-level review (portal.selfservice.plan_diff). Prints medians, p95 and the load
average before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from portal.selfservice import plan_diff, plan_policy  # noqa: E402
from provisioning.terraform_cli import make_runner  # noqa: E402

CONFIG = """
variable "tags" { type = map(string) }
variable "password" {
  type      = string
  sensitive = true
}
variable "n" { type = number }

resource "terraform_data" "svc" {
  count = var.n
  input = {
    name     = "svc-${count.index}"
    size     = count.index % 3 == 0 ? "db.t3.small" : "db.t3.micro"
    subnets  = ["a-${count.index}", "b-${count.index}", "c-${count.index}"]
    settings = { retention = 7, multi_az = count.index % 2 == 0, port = 5432 }
    password = count.index % 10 == 0 ? var.password : null
    tags     = count.index % 25 == 0 ? { team = "platform" } : var.tags
  }
}
"""
TAGS = {"owner": "bench@meridian.example", "team": "platform", "cost-center": "cc-1001",
        "environment": "dev"}


def real_plan(resources: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "module"
        module.mkdir()
        (module / "main.tf").write_text(CONFIG)
        runner = make_runner("auto", module_dir=module, work_root=Path(tmp) / "work",
                             environment="bench-plan", sink=lambda line: None)
        runner.plan(variables={"tags": TAGS, "password": "bench-secret-value",
                               "n": resources})
        return json.dumps(runner.show_plan())


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(name: str, samples: list[float], base: float) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    med = statistics.median(samples)
    return f"{name:<22} median {med:8.2f} ms  p95 {p95:8.2f} ms  ({med / base:6.1f}× json)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    load_before = os.getloadavg()
    text = real_plan(args.resources)
    plan = json.loads(text)
    print(f"plan: {len(plan['resource_changes'])} resource changes, {len(text) / 1024:.0f} KiB "
          f"of JSON, Terraform {plan['terraform_version']}")
    plan_policy.plan_policy_results(plan)  # compile once, as the worker's cache does
    samples: dict[str, list[float]] = {"json.loads": [], "rego policies": [], "attribute review": []}
    for _ in range(args.rounds):
        samples["json.loads"].append(timed(lambda: json.loads(text)))
        samples["rego policies"].append(timed(lambda: plan_policy.plan_policy_results(plan)))
        samples["attribute review"].append(timed(lambda: plan_diff.review(plan)))
    base = statistics.median(samples["json.loads"])
    for name, values in samples.items():
        print(summary(name, values, base))
    denied = sum(len(r["deny"]) for r in plan_policy.plan_policy_results(plan))
    print(f"policies denied {denied} resource(s); review flagged "
          f"{len(plan_diff.review(plan)['untagged'])} untagged")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
