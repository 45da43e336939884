"""Meridian as described by the seed documents (../shared/seeds/000_*: the production
readiness review). Demo data is taken from here, never invented elsewhere."""

TEAMS = {
    "platform": ("Platform Engineering", "#platform"),
    "identity": ("Identity", "#team-identity"),
    "commerce": ("Commerce", "#team-commerce"),
    "inventory": ("Inventory", "#team-inventory"),
    "discovery": ("Discovery", "#team-discovery"),
    "payments": ("Payments", "#team-payments"),
    "logistics": ("Logistics", "#team-logistics"),
    "messaging": ("Messaging", "#team-messaging"),
    "data": ("Data Services", "#team-data"),
}

# slug: name, team, tier, kind, language, purpose, SLO summary, failure modes, depends-on
SERVICES = {
    "api-gateway": dict(
        name="API Gateway (Kong)", team="platform", tier=1, kind="service", language="Lua",
        purpose="Central entry point for all API traffic: JWT validation, per-tenant rate "
                "limiting, request routing and request/response transformation.",
        slo_summary="99.95% availability, p99 added latency < 15 ms",
        failure_modes=["Pod crash causes 502 from ingress (mitigated by 3 replicas + PDB).",
                       "Redis unavailable degrades rate limiting to permissive mode.",
                       "Misconfigured route returns 404 for valid paths."],
        depends_on={"auth": "JWT public keys", "redis": "rate limit counters",
                    "order": "routing", "inventory": "routing", "search": "routing",
                    "billing": "routing"}),
    "auth": dict(
        name="Auth Service", team="identity", tier=1, kind="service", language="Python",
        purpose="User authentication (OAuth2/OIDC), API key management, tenant identity, "
                "JWT issuance and rotation.",
        slo_summary="99.95% availability, p95 login latency < 200 ms",
        failure_modes=["PostgreSQL unreachable causes login failures.",
                       "Vault token expiry blocks key rotation.",
                       "Stale Redis cache can allow revoked tokens for up to 5 minutes (TTL)."],
        depends_on={"postgresql": "user/tenant data", "redis": "session cache, token blacklist",
                    "vault": "signing keys, OIDC client secrets"}),
    "order": dict(
        name="Order Service", team="commerce", tier=1, kind="service", language="Python",
        purpose="Order lifecycle management: creation, validation, state transitions "
                "(pending, confirmed, fulfilled, canceled); publishes events to RabbitMQ.",
        slo_summary="99.95% availability, p99 order creation < 500 ms, zero lost orders",
        failure_modes=["RabbitMQ unavailable blocks event publishing; orders still persist but "
                       "downstream processing stalls.",
                       "Inventory Service timeout causes order creation to hang (circuit breaker "
                       "trips after 5 s).",
                       "Database connection pool exhaustion under load spike."],
        depends_on={"postgresql": "order data", "rabbitmq": "event publishing",
                    "inventory": "stock reservation", "redis": "idempotency keys"}),
    "inventory": dict(
        name="Inventory Service", team="inventory", tier=2, kind="service", language="Python",
        purpose="Real-time stock level tracking, reservation management, warehouse sync.",
        slo_summary="99.9% availability, stock accuracy within 60 s of warehouse update",
        failure_modes=["Cache inconsistency causes overselling (mitigated by DB-level "
                       "pessimistic locking).",
                       "Slow warehouse sync causes stale data for up to 15 minutes."],
        depends_on={"postgresql": "stock data with row-level locking",
                    "redis": "hot stock cache", "rabbitmq": "fulfillment events"}),
    "search": dict(
        name="Search Service", team="discovery", tier=2, kind="service", language="Python",
        purpose="Full-text product search, filtering, faceting and autocomplete for tenant "
                "storefronts.",
        slo_summary="99.9% availability, p95 search latency < 150 ms, index lag < 30 s",
        failure_modes=["Elasticsearch cluster goes yellow/red.",
                       "Reindex from PostgreSQL takes 45 minutes (stale results meanwhile).",
                       "Mapping conflicts on schema changes block indexing."],
        depends_on={"elasticsearch": "product index", "postgresql": "reindex source",
                    "rabbitmq": "product update events"}),
    "billing": dict(
        name="Billing Service", team="payments", tier=2, kind="service", language="Python",
        purpose="Tenant subscriptions, usage metering, invoice generation, Stripe integration.",
        slo_summary="99.9% availability, invoice accuracy 100%, payment processing within 30 s",
        failure_modes=["Stripe API outage blocks payment processing (invoices queue for retry).",
                       "Usage counter loss on Redis crash (mitigated by DB flush every 60 s).",
                       "Webhook signature validation failure silently drops payment "
                       "confirmations."],
        depends_on={"postgresql": "billing records", "stripe": "payments and webhooks",
                    "redis": "usage counter aggregation"}),
    "fulfillment": dict(
        name="Fulfillment Service", team="logistics", tier=2, kind="service", language="Python",
        purpose="Coordinates fulfillment: picks warehouse, generates shipping labels, tracks "
                "shipment status, updates order state.",
        slo_summary="99.9% availability, fulfillment within 5 min of order confirmation",
        failure_modes=["Carrier API timeout delays label generation (retry with back-off).",
                       "Message processing failure causes redelivery loop (DLQ after 3 retries).",
                       "S3 unavailability blocks label storage."],
        depends_on={"rabbitmq": "order and fulfillment events", "postgresql": "fulfillment records",
                    "s3": "shipping labels"}),
    "notification": dict(
        name="Notification Service", team="messaging", tier=3, kind="service", language="Python",
        purpose="Transactional e-mail, SMS and webhook notifications to tenants and end-users.",
        slo_summary="99.5% delivery rate, e-mail within 60 s, SMS within 30 s",
        failure_modes=["Provider outage delays notifications (failover SendGrid -> SES).",
                       "Template rendering error causes garbled notifications.",
                       "Rate limit misconfiguration causes tenant notification flood."],
        depends_on={"rabbitmq": "notification events", "redis": "dedupe and rate limits",
                    "postgresql": "notification log, templates"}),
    "worker": dict(
        name="Worker Service", team="data", tier=3, kind="service", language="Python",
        purpose="Background jobs: data imports, bulk operations, scheduled tasks, tenant exports.",
        slo_summary="Job completion within 2x estimated duration, zero dropped jobs",
        failure_modes=["Long-running job blocks queue consumer (separate queues per job type).",
                       "OOM kill on large exports (2Gi limit; exports stream to S3).",
                       "Cron job overlap on slow execution (distributed lock prevents it)."],
        depends_on={"rabbitmq": "job queue", "postgresql": "job state, tenant data",
                    "s3": "export output", "redis": "dedupe and distributed locks"}),
    "report": dict(
        name="Report Service", team="data", tier=3, kind="service", language="Python",
        purpose="Tenant analytics reports, dashboard data and scheduled report delivery.",
        slo_summary="Report generation within 5 min, data freshness within 15 min of source",
        failure_modes=["Read replica lag causes stale report data.",
                       "Large report generation causes high memory (streaming pagination).",
                       "S3 upload timeout on large reports."],
        depends_on={"postgresql": "read replica", "s3": "report storage",
                    "redis": "report cache (15 min)", "rabbitmq": "scheduled triggers"}),
    "postgresql": dict(
        name="PostgreSQL", team="platform", tier=1, kind="datastore", language=None,
        purpose="Primary + 2 read replicas (RDS); databases meridian_auth, meridian_orders, "
                "meridian_inventory, meridian_billing, meridian_platform.",
        slo_summary="PITR window 7 days; RPO < 1 min",
        failure_modes=["Primary failover takes 60-120 s.", "Connection pool exhaustion.",
                       "Replica lag during bulk operations."],
        depends_on={}),
    "redis": dict(
        name="Redis", team="platform", tier=1, kind="datastore", language=None,
        purpose="Session cache, rate limits, idempotency keys, hot stock cache, locks, usage "
                "counters (ElastiCache, primary + 1 replica).",
        slo_summary="Cache only; authoritative data is in PostgreSQL",
        failure_modes=["Failover causes 10-30 s interruption.",
                       "Memory pressure triggers eviction (allkeys-lru).",
                       "Split-brain during network partition."],
        depends_on={}),
    "rabbitmq": dict(
        name="RabbitMQ", team="platform", tier=1, kind="datastore", language=None,
        purpose="Async messaging: orders.events, inventory.events, fulfillment.events, "
                "notifications, reports.scheduled; *.dlq after 3 retries.",
        slo_summary="3-node cluster with quorum queues",
        failure_modes=["Network partition splits the cluster (pause-minority).",
                       "Disk alarm blocks publishers.",
                       "Queue backup during consumer outage causes memory pressure."],
        depends_on={}),
    "elasticsearch": dict(
        name="Elasticsearch", team="discovery", tier=2, kind="datastore", language=None,
        purpose="Product catalog index per tenant (rolling aliases), search analytics.",
        slo_summary="3 data nodes, 2 replicas per index",
        failure_modes=["Cluster yellow (lost replica) or red (lost primary shard).",
                       "JVM heap pressure causes slow queries.",
                       "Mapping explosion from uncontrolled dynamic fields."],
        depends_on={}),
    "s3": dict(
        name="S3", team="platform", tier=1, kind="datastore", language=None,
        purpose="Buckets meridian-media, meridian-reports, meridian-backups, meridian-fulfillment.",
        slo_summary="Reports archived to Glacier after 90 days; backups kept 30 days",
        failure_modes=["Pre-signed URL expiry causes download failures.",
                       "CORS misconfiguration blocks browser uploads."],
        depends_on={}),
    "vault": dict(
        name="Vault", team="platform", tier=1, kind="infrastructure", language=None,
        purpose="Secrets: KV v2, PKI (internal CA), Transit (PII encryption); HA with Raft.",
        slo_summary="Auto-unsealed via AWS KMS",
        failure_modes=["Vault sealed: check auto-unseal (KMS), pod restarts, storage backend."],
        depends_on={}),
    "stripe": dict(
        name="Stripe", team="payments", tier=2, kind="infrastructure", language=None,
        purpose="External payment processor: invoices, payments, webhooks.",
        slo_summary="External dependency", failure_modes=["Stripe API outage."], depends_on={}),
}

CLUSTERS = {
    "prod-us-east-1": dict(
        environment="prod", region="us-east-1",
        purpose="Production: application workloads, data operators, monitoring, ArgoCD.",
        node_groups=[
            {"name": "system", "instance_type": "m5.xlarge", "count": "3",
             "purpose": "Control plane add-ons, monitoring, ArgoCD"},
            {"name": "application", "instance_type": "m5.2xlarge", "count": "6",
             "purpose": "Application workloads"},
            {"name": "data", "instance_type": "r5.2xlarge", "count": "3",
             "purpose": "PostgreSQL operator, Elasticsearch, RabbitMQ"},
            {"name": "spot", "instance_type": "m5.xlarge", "count": "2-8",
             "purpose": "Worker/Report burst capacity (Spot)"}],
        namespaces=["meridian-prod", "monitoring", "argocd", "vault", "ingress", "cert-manager",
                    "gatekeeper-system", "elastic-system", "rabbitmq"]),
    "staging-us-east-1": dict(
        environment="staging", region="us-east-1",
        purpose="Pre-production validation; ArgoCD auto-syncs on GitOps change.",
        node_groups=[{"name": "general", "instance_type": "m5.large", "count": "3",
                      "purpose": "All workloads (smaller replicas)"}],
        namespaces=["meridian-staging", "monitoring", "argocd", "vault", "ingress"]),
    "dr-eu-west-1": dict(
        environment="dr", region="eu-west-1",
        purpose="Disaster recovery: synced 30 min after prod; RPO < 1 min, RTO < 15 min.",
        node_groups=[
            {"name": "system", "instance_type": "m5.xlarge", "count": "2",
             "purpose": "Control plane add-ons"},
            {"name": "application", "instance_type": "m5.xlarge", "count": "3",
             "purpose": "Application workloads (scaled down)"},
            {"name": "data", "instance_type": "r5.xlarge", "count": "2",
             "purpose": "Read replicas, standby data stores"}],
        namespaces=["meridian-dr", "monitoring", "argocd", "vault", "ingress"]),
}

ESCALATION = [
    ("Sev1", "service down, data loss risk", "5 min ack",
     "Secondary on-call (15 min) → Engineering Manager (30 min) → VP Engineering (1 h)"),
    ("Sev2", "degraded performance, partial outage", "15 min ack",
     "Secondary on-call (30 min) → Team lead (1 h)"),
    ("Sev3", "non-critical issue, workaround exists", "1 h ack",
     "Ticket created, addressed next business day"),
    ("Sev4", "cosmetic, informational", "Next business day",
     "Ticket created, prioritized in sprint"),
]

RUNBOOK_ENTRY_POINTS = [
    ("Pod CrashLoopBackOff", "Check logs, resource limits, readiness probes, recent deploys"),
    ("High error rate on API Gateway", "Check upstream service health, recent deploys, rate limit config"),
    ("Database connection errors", "Check PgBouncer pools, RDS events, connection count"),
    ("RabbitMQ queue backup", "Check consumer health, message rate, DLQ count"),
    ("Node NotReady", "Check kubelet, system resources, network, cloud provider events"),
    ("Certificate expiry alert", "Check cert-manager logs, issuer status, DNS challenge"),
    ("Vault sealed", "Check auto-unseal (KMS), pod restarts, storage backend"),
]

DASHBOARDS = [
    ("System Overview", "/d/system-overview", "High-level health of all services"),
    ("SLO Burn Rate", "/d/slo-burn-rate", "Error budget consumption per service"),
    ("Order Pipeline", "/d/order-pipeline", "Order creation through fulfillment"),
    ("Infrastructure", "/d/infra-overview", "Node health, resource usage, network"),
    ("On-Call Summary", "/d/oncall-summary", "Active alerts, recent incidents, handoff notes"),
]

_TENANT_NAMES = [
    "Acme Retail", "Globex Outfitters", "Initech Supply", "Umbrella Pharmacy", "Hooli Home",
    "Stark Hardware", "Wayne Apparel", "Wonka Confectionery", "Tyrell Electronics",
    "Cyberdyne Parts", "Soylent Grocers", "Vandelay Imports", "Pied Piper Books",
    "Dunder Paper", "Gringotts Jewelers", "Oceanic Travel Goods", "Monarch Garden",
    "Aperture Optics", "Black Mesa Lab Supply", "Nakatomi Office", "Prestige Worldwide",
    "Sterling Cooper Print", "Bluth Frozen", "Krusty Kitchenware", "Los Pollos Foods",
    "Duff Beverages", "Gekko Fitness", "Massive Dynamic Toys", "Oscorp Sports",
    "Rekall Music", "Virtucon Pets", "Zorg Tools", "Nordhaven Outdoor", "Brightlane Beauty",
    "Kestrel Cycles", "Alder & Finch Furniture",
]
_PLANS = ("enterprise", "growth", "growth", "starter")


def tenants() -> list[dict]:
    """Thirty-six demo tenants with a stable plan/region mix."""
    out = []
    for i, name in enumerate(_TENANT_NAMES):
        slug = name.lower().replace("& ", "").replace(" ", "-")
        out.append({"slug": slug, "name": name, "plan": _PLANS[i % 4],
                    "region": "eu" if i % 3 == 2 else "us"})
    return out


DEMO_PASSWORD_SUFFIX = "-demo"
DEMO_USERS = [
    # email, name, roles, tenant slug
    ("admin@meridian.example", "Ada Admin", ["admin"], None),
    ("manager@meridian.example", "Maya Manager", ["manager"], None),
    ("oncall@meridian.example", "Omar Oncall", ["oncall"], None),
    ("dev@meridian.example", "Devi Developer", ["developer"], None),
    ("viewer@acme-retail.example", "Vic Viewer (Acme Retail)", ["tenant_viewer"], "acme-retail"),
    ("viewer@globex-outfitters.example", "Gina Viewer (Globex)", ["tenant_viewer"],
     "globex-outfitters"),
]


def demo_password(email: str) -> str:
    """The demo password of a demo user: mailbox and domain's first label, plus a suffix."""
    mailbox, domain = email.split("@", 1)
    return f"{mailbox}-{domain.split('.', 1)[0]}{DEMO_PASSWORD_SUFFIX}"
