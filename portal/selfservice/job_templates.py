"""The catalog of self-service templates and the parameters each one declares."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.selfservice import engines
from portal.selfservice.parameters import Param
from provisioning import ansible

ENV_NAME_HINT = ("3-40 lowercase letters, digits or dashes, starting with your team's slug "
                 "and a dash (for example platform-checkout-v2).")
TAG_HINT = ("an image tag: letters, digits, '.', '_' or '-', at most 128 characters, "
            "for example v4.2.1.")


def _teams(session: Session) -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in catalog.list_teams(session=session)]


def _services(session: Session) -> list[tuple[str, str]]:
    return [(s.slug, s.name) for s in catalog.list_services(session=session, kind="service")]


def _served_services(session: Session) -> list[tuple[str, str]]:
    return [("", "None (not tied to a service)")] + _services(session)


def _edge_groups(session: Session) -> list[tuple[str, str]]:
    path = engines.ansible_inventory()
    return [(g, f"{g} ({n} host{'' if n == 1 else 's'})")
            for g, n in ansible.inventory_groups(path).items()]


ENV_NAME = Param("name", "Environment name", pattern=r"[a-z][a-z0-9-]{2,39}",
                 charset=r"[a-z0-9-]", pattern_hint="Use " + ENV_NAME_HINT, help=ENV_NAME_HINT)
TEAM = Param("team", "Team (cost tag)", kind="choice", choices=_teams,
             help="The team that pays for it: the team cost tag.")
COST_CENTER = Param("cost_center", "Cost center (cost tag)", pattern=r"cc-[0-9]{4}",
                    charset=r"[a-z0-9-]",
                    pattern_hint="Use cc- followed by four digits, for example cc-1001.",
                    help="Finance's cost center: the cost-center cost tag.")
# The catalog entry an environment serves: its jobs land on that entry, so an incident on
# it (or on what depends on it) lists the environment's applies among its suspect changes.
SERVED_SERVICE = Param("service", "Service it serves (optional)", kind="choice",
                       choices=_served_services, default="",
                       help="A service of your team; its incidents then list this "
                            "environment's Terraform applies.")
REPLICAS = Param("replicas", "App replicas", kind="int", minimum=1, maximum=3, default=1)
SERVICE = Param("service", "Service", kind="choice", choices=_services)
TARGET_ENV = Param("environment", "Target environment", kind="choice",
                   choices=lambda s: [("staging", "staging (syncs automatically)"),
                                      ("prod", "prod (needs a manager's approval)")])


@dataclass(frozen=True)
class JobTemplate:
    """A kind of request developers can make, and how the portal carries it out."""
    slug: str
    title: str
    summary: str
    engine: str  # terraform | ansible | argocd
    action: str  # create | patch | deploy | rollback
    params: tuple[Param, ...]
    fixed_tier: str | None = None
    # The catalog entry its jobs change when no `service` parameter names one.
    catalog_entry: str | None = None

    def tier(self, values: dict) -> str:
        """dev, staging or prod: where the change lands."""
        return self.fixed_tier or values["environment"]

    def gate(self, values: dict) -> str:
        """Who lets the planned job go on: approval for prod, none for staging syncs."""
        tier = self.tier(values)
        if tier == "prod":
            return "approval"
        return "auto" if self.engine == "argocd" else "confirm"

    def target(self, values: dict) -> str:
        """The lock key: two jobs with the same target never run at the same time."""
        if self.engine == "terraform":
            return f"terraform:{values['name']}"
        if self.engine == "ansible":
            return "ansible:edge"  # site groups overlap the whole fleet
        return "gitops"  # every deploy commits to the one GitOps repo


TEMPLATES: dict[str, JobTemplate] = {t.slug: t for t in (
    JobTemplate(
        "dev-environment", "Ephemeral dev environment",
        "A sandbox environment (network, database, cache, bucket, app) for one developer, "
        "destroyed automatically when its time to live runs out.",
        "terraform", "create",
        (ENV_NAME, TEAM, COST_CENTER, REPLICAS, SERVED_SERVICE,
         Param("ttl_hours", "Time to live (hours)", kind="int", minimum=1, maximum=72,
               default=8, help="Destroyed automatically after this many hours.")),
        fixed_tier="dev"),
    JobTemplate(
        "staging-environment", "Staging environment",
        "A production-like environment for pre-production validation; kept until destroyed.",
        "terraform", "create", (ENV_NAME, TEAM, COST_CENTER, REPLICAS, SERVED_SERVICE),
        fixed_tier="staging"),
    JobTemplate(
        "edge-patching", "Edge-node patching",
        "Run bootstrap, upgrade (OS patches, Docker) or addons on an edge site: check mode "
        "first, then for real after a manager approves.",
        "ansible", "patch",
        (Param("group", "Site or group", kind="choice", choices=_edge_groups),
         Param("playbook", "Playbook", kind="choice",
               choices=lambda s: [("upgrade", "upgrade.yml: OS patches, Docker version"),
                                  ("bootstrap", "bootstrap.yml: OS setup, Docker, node-exporter"),
                                  ("addons", "addons.yml: monitoring agents, log shippers")])),
        fixed_tier="prod", catalog_entry="edge-nodes"),
    JobTemplate(
        "service-deploy", "Service deploy",
        "Set a service's image tag in the GitOps repo and sync it with ArgoCD: staging "
        "syncs at once, prod after a manager approves.",
        "argocd", "deploy",
        (SERVICE, TARGET_ENV, Param("image_tag", "Image tag", pattern=r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                                    charset=r"[A-Za-z0-9_.-]", pattern_hint="Use " + TAG_HINT,
                                    help=TAG_HINT))),
    JobTemplate(
        "service-rollback", "Service rollback",
        "Revert the service's last deploy commit in the GitOps repo and sync.",
        "argocd", "rollback", (SERVICE, TARGET_ENV)),
)}


def get(slug: str) -> JobTemplate | None:
    """The template with this slug, or None."""
    return TEMPLATES.get(slug)
