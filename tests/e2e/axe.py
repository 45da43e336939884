"""axe-core (npm, tests/node/axe) run inside Playwright pages: the WCAG 2.1 A/AA rules.

axe is added as an init script, which the browser runs outside the page's Content Security
Policy, so the portal's CSP (scripts from the portal only) stays on while it is audited.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

NODE_PROJECT = Path(__file__).resolve().parents[1] / "node" / "axe"
AXE_JS = NODE_PROJECT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "),
                              summary: (n.failureSummary || "").split("\\n").slice(1).join(" ")}))}));
}"""


def install(context: BrowserContext) -> None:
    """Make axe available in every page of `context` (`npm ci` on first use)."""
    if not AXE_JS.is_file():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
                       cwd=NODE_PROJECT, check=True, capture_output=True, timeout=300)
    context.add_init_script(path=AXE_JS)


def violations(page: Page, *, where: str) -> list[str]:
    """One readable line per failing element: rule, impact, target, page and why."""
    found = page.evaluate(_RUN, WCAG_TAGS)
    return [f"{v['rule']} ({v['impact']}) {n['target']} on {where}: {n['summary'] or v['help']}"
            for v in found for n in v["nodes"]]
