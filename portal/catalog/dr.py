"""Disaster-recovery scenarios: what fails, which catalog entries it takes down, how it is
noticed, and the recovery point and time objectives (RPO: how much recent data may be lost;
RTO: how long until service is back), each with the runbook that carries it out.

The scenarios are reviewed platform design, versioned with the code like the alert rules;
the runbooks they link to are catalog runbooks (seeded by `seed_runbooks`, editable in the
catalog). A page reads every entry and runbook it names in one query.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from portal.catalog import runbooks
from portal.catalog.models import CatalogRunbook, Service

_APPS = ("api-gateway", "auth", "order", "inventory", "search", "billing", "fulfillment",
         "notification", "worker", "report")


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    affected: tuple[str, ...]  # catalog entry slugs
    detection: str
    rpo: str
    rto: str
    recovery: tuple[str, ...]  # the runbook's steps

    @property
    def runbook_slug(self) -> str:
        return f"dr-{self.slug}"


SCENARIOS = (
    Scenario(
        "prod-cluster-loss", "Production cluster or region lost", ("postgresql", *_APPS),
        "Route53 health checks on api.meridian.io fail; availability SLO burn-rate pages for "
        "every service.",
        "< 1 minute (PostgreSQL WAL streaming to the DR replica)",
        "< 15 minutes (DNS failover + DB replica promotion + service verification)",
        ("Confirm the outage is regional (AWS Health, the prod cluster's API server).",
         "Promote the PostgreSQL cross-region replica in the DR region.",
         "Point the DR cluster's secrets at the promoted database; Redis starts cold.",
         "Let Route53 fail over (TTL 60 s) or flip the record by hand.",
         "Verify the order path end to end, then announce on the status page.")),
    Scenario(
        "postgresql-primary-failure", "PostgreSQL primary instance fails", ("postgresql", *_APPS),
        "Database connection errors across services; PostgreSQL availability alert.",
        "0 (synchronous Multi-AZ standby)",
        "60-120 seconds (automatic RDS Multi-AZ failover)",
        ("Watch the RDS event stream for the failover to complete.",
         "Check PgBouncer reconnected (no pool stuck on the old primary).",
         "Look for requests that failed during the switch and retry idempotent work.")),
    Scenario(
        "redis-loss", "Redis lost or failed over to the DR region",
        ("redis", "api-gateway", "auth", "inventory", "billing", "notification"),
        "Redis connection errors; rate limiting falls back to permissive; cache hit ratio "
        "drops to zero.",
        "Cache only; billing usage counters since the last flush (up to 60 seconds)",
        "10-30 seconds (replica failover); cold start in DR",
        ("Confirm the replica took over (ElastiCache events).",
         "Expect a burst of PostgreSQL load while caches warm; watch connection pools.",
         "Check billing's usage flush ran after recovery.")),
    Scenario(
        "rabbitmq-dr-failover", "RabbitMQ messages in flight on DR failover",
        ("rabbitmq", "order", "inventory", "fulfillment", "notification", "search", "worker"),
        "Queue depth missing after failover; fulfillment lag on the order pipeline dashboard.",
        "Messages in flight at failover are lost (RabbitMQ is not replicated to DR)",
        "< 15 minutes (with the cluster failover)",
        ("Re-publish unconfirmed orders from the order service's outbox.",
         "Replay inventory reservations and fulfillment for orders confirmed in the last "
         "minutes before the failover.",
         "Reconcile notifications sent twice or not at all with the tenants affected.")),
    Scenario(
        "bad-release", "Bad release or deleted resource in prod", _APPS,
        "Canary analysis aborts on the SLO burn rate, or the burn-rate alert pages after the "
        "release; the DR cluster still runs the state of 30 minutes earlier.",
        "0 for data (the release does not touch the database replica)",
        "< 15 minutes (git revert + sync, or fail over to DR)",
        ("Revert the deploy commit in the GitOps repository and sync prod.",
         "If prod cannot be repaired in time, fail over to DR, which lags 30 minutes behind.",
         "Freeze the DR branch (suspend advance-dr-revision) until the revert is in.")),
    Scenario(
        "search-index-loss", "Elasticsearch cluster red or index lost", ("elasticsearch", "search"),
        "Elasticsearch cluster health red; search error rate and index lag alerts.",
        "< 30 seconds of index lag (the index is rebuilt from PostgreSQL)",
        "< 1 hour (a full reindex from PostgreSQL takes about 45 minutes)",
        ("Restore the cluster or recreate the index.",
         "Run the reindex from PostgreSQL; search serves stale results meanwhile.")),
    Scenario(
        "object-storage-outage", "S3 unavailable", ("s3", "fulfillment", "worker", "report"),
        "Label storage and export failures; S3 error rate in the infrastructure dashboard.",
        "0 (S3 durability; cross-region replication of critical buckets)",
        "Provider dependent; labels and exports retry with backoff",
        ("Confirm on AWS Health; pause tenant exports.",
         "Let fulfillment retry label storage; check the dead-letter queue afterwards.")),
)
BY_SLUG = {s.slug: s for s in SCENARIOS}


def for_service(slug: str) -> list[Scenario]:
    """The scenarios that take this catalog entry down (no query: the table is code)."""
    return [s for s in SCENARIOS if slug in s.affected]


@dataclass(frozen=True)
class Table:
    scenarios: tuple[Scenario, ...]
    names: dict[str, str]  # entry slug -> name, for the entries in the catalog
    runbooks: dict[str, str]  # runbook slug -> title, for the runbooks that exist


def table(*, session: Session, scenarios: tuple[Scenario, ...] | list[Scenario] = SCENARIOS
          ) -> Table:
    """The scenarios with the names of their entries and their runbooks: one query."""
    scenarios = tuple(scenarios)
    entries = sorted({slug for s in scenarios for slug in s.affected})
    books = [s.runbook_slug for s in scenarios]
    rows = session.execute(union_all(
        select(literal("service"), Service.slug, Service.name).where(Service.slug.in_(entries)),
        select(literal("runbook"), CatalogRunbook.slug, CatalogRunbook.title)
        .where(CatalogRunbook.slug.in_(books)))).all()
    return Table(scenarios=scenarios,
                 names={slug: name for kind, slug, name in rows if kind == "service"},
                 runbooks={slug: title for kind, slug, title in rows if kind == "runbook"})


def runbook_body(scenario: Scenario) -> str:
    """Markdown of a scenario's runbook."""
    steps = "\n".join(f"1. {step}" for step in scenario.recovery)
    return (f"## Detection\n\n{scenario.detection}\n\n"
            f"## Objectives\n\n- RPO: {scenario.rpo}\n- RTO: {scenario.rto}\n\n"
            f"## Recovery\n\n{steps}\n")


def seed_runbooks(*, session: Session) -> None:
    """A runbook per scenario, created only where missing (they may have been edited)."""
    for scenario in SCENARIOS:
        if runbooks.get(session=session, slug=scenario.runbook_slug) is None:
            runbooks.save(session=session, slug=scenario.runbook_slug,
                          title=f"DR: {scenario.title}", body=runbook_body(scenario),
                          service=None, alertnames=[], actor_email=None)
