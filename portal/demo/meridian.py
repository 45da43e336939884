"""Meridian as described by its production readiness review. Demo data is taken from here,
never invented elsewhere."""
from typing import Any

from portal.catalog import service as catalog_service

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
SERVICES: dict[str, dict[str, Any]] = {
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


# --- Catalog facts. Infrastructure components of Meridian's architecture that
# the services above lean on; same shape as SERVICES so every domain sees one catalog.
_INFRA = "infrastructure"
SERVICES.update({
    "portal": dict(
        name="Meridian Platform Portal", team="platform", tier=2, kind=_INFRA,
        language="Python",
        purpose="The internal developer platform portal: catalog, SLOs, on-call, incidents, "
                "self-service provisioning and tenant dashboards.",
        slo_summary="",
        failure_modes=["PostgreSQL unreachable: every page fails.",
                       "Celery broker down: self-service jobs and paging queue up."],
        depends_on={"postgresql": "portal database", "rabbitmq": "Celery broker",
                    "redis": "rate limits, caches, locks", "vault": "secrets",
                    "prometheus": "SLI queries", "alertmanager": "alerts and silences",
                    "argocd": "GitOps deploys"}),
    "ingress-nginx": dict(
        name="Ingress-NGINX", team="platform", tier=1, kind=_INFRA, language=None,
        purpose="TLS termination (Let's Encrypt via cert-manager), ModSecurity WAF, global rate "
                "limiting; 3 replicas in namespace ingress behind the AWS NLB.",
        slo_summary="", failure_modes=["Expired certificate breaks TLS for api.meridian.io."],
        depends_on={"route53": "api.meridian.io DNS", "cert-manager": "TLS certificates"}),
    "cloudfront": dict(
        name="CloudFront (CDN)", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="CDN in front of the platform; bare-metal edge nodes act as origin and cache.",
        slo_summary="", failure_modes=["CORS misconfiguration blocks browser uploads."],
        depends_on={"s3": "media origin", "edge-nodes": "CDN origin, local caching"}),
    "route53": dict(
        name="Route53 DNS", team="platform", tier=1, kind=_INFRA, language=None,
        purpose="External DNS (api.meridian.io), split-horizon db.internal.meridian.io, health-"
                "check based DNS failover to the DR cluster (TTL 60 s).",
        slo_summary="", failure_modes=["DNS misconfiguration makes the platform unreachable."],
        depends_on={}),
    "cert-manager": dict(
        name="cert-manager", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="Public TLS via Let's Encrypt (DNS-01) and internal mTLS via Vault PKI "
                "(90-day rotation).",
        slo_summary="", failure_modes=["Certificate expiry alert: issuer or DNS challenge "
                                       "failing."],
        depends_on={"vault": "internal PKI", "route53": "DNS-01 challenge"}),
    "gatekeeper": dict(
        name="OPA Gatekeeper", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="Admission policies: non-root, resource limits, no latest tags, approved "
                "registries, NetworkPolicies, no privileged containers, PDB when replicas > 1.",
        slo_summary="", failure_modes=["New policies run in audit mode for 7 days first."],
        depends_on={}),
    "calico": dict(
        name="Calico", team="platform", tier=1, kind=_INFRA, language=None,
        purpose="CNI (VXLAN) and NetworkPolicy enforcement: default-deny per namespace.",
        slo_summary="", failure_modes=["A missing allow rule blocks inter-service traffic."],
        depends_on={}),
    "coredns": dict(
        name="CoreDNS", team="platform", tier=1, kind=_INFRA, language=None,
        purpose="In-cluster DNS: <service>.meridian-prod.svc.cluster.local.",
        slo_summary="", failure_modes=["Resolution failures look like every service failing."],
        depends_on={}),
    "prometheus": dict(
        name="Prometheus", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="Metrics (kube-prometheus-stack), 15 days local, Thanos to S3 for 1 year; SLO "
                "recording rules and 85 alert rules.",
        slo_summary="", failure_modes=["Scrape failures leave SLIs with gaps."],
        depends_on={"s3": "Thanos long-term storage"}),
    "alertmanager": dict(
        name="Alertmanager", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="Severity-based routing to PagerDuty, Slack and e-mail; silences need a "
                "justification.",
        slo_summary="", failure_modes=["Misrouted alerts page nobody."],
        depends_on={"prometheus": "alert source"}),
    "grafana": dict(
        name="Grafana", team="platform", tier=3, kind=_INFRA, language=None,
        purpose="24 dashboards as code (ConfigMaps) over Prometheus, Loki, Tempo and "
                "PostgreSQL.",
        slo_summary="", failure_modes=["Dashboards unavailable slow down investigation."],
        depends_on={"prometheus": "metrics", "loki": "logs", "tempo": "traces"}),
    "loki": dict(
        name="Loki", team="platform", tier=3, kind=_INFRA, language=None,
        purpose="Logs, simple scalable mode, 30 days, S3 chunks.",
        slo_summary="", failure_modes=["S3 outage stops log ingestion."],
        depends_on={"s3": "chunk storage"}),
    "tempo": dict(
        name="Tempo", team="platform", tier=3, kind=_INFRA, language=None,
        purpose="Traces (OpenTelemetry), 14 days, 10% head sampling, 100% errors and slow "
                "requests.",
        slo_summary="", failure_modes=["Ingester backlog drops traces."],
        depends_on={"s3": "trace storage"}),
    "argocd": dict(
        name="ArgoCD", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="GitOps: staging auto-sync, prod manual sync with approval, DR synced 30 min "
                "after prod; Argo Rollouts canary for the Order Service.",
        slo_summary="", failure_modes=["Sync failures leave clusters drifting from Git."],
        depends_on={"ghcr": "container images"}),
    "ghcr": dict(
        name="GitHub Container Registry", team="platform", tier=2, kind=_INFRA, language=None,
        purpose="The only approved registry: ghcr.io/meridian/*; images built by GitHub Actions "
                "and scanned with Trivy.",
        slo_summary="", failure_modes=["Registry outage blocks new pods from pulling images."],
        depends_on={}),
    "edge-nodes": dict(
        name="Edge nodes", team="platform", tier=3, kind=_INFRA, language=None,
        purpose="12 bare-metal edge nodes at 3 sites (CDN origin, local caching), managed with "
                "Ansible (bootstrap, upgrade, addons).",
        slo_summary="", failure_modes=["Node NotReady after a failed OS patch run."],
        depends_on={}),
    "sendgrid": dict(
        name="SendGrid", team="messaging", tier=3, kind=_INFRA, language=None,
        purpose="External e-mail provider (failover to SES).", slo_summary="External dependency",
        failure_modes=["Provider outage delays e-mail."], depends_on={}),
    "twilio": dict(
        name="Twilio", team="messaging", tier=3, kind=_INFRA, language=None,
        purpose="External SMS provider.", slo_summary="External dependency",
        failure_modes=["Provider outage delays SMS."], depends_on={}),
    "carrier-apis": dict(
        name="Carrier APIs", team="logistics", tier=3, kind=_INFRA, language=None,
        purpose="External carrier APIs (FedEx, UPS, USPS) for shipping labels and tracking.",
        slo_summary="External dependency",
        failure_modes=["Carrier API timeout delays labels (retry with back-off)."],
        depends_on={}),
})
SERVICES["api-gateway"]["depends_on"]["ingress-nginx"] = "upstream: all traffic arrives through it"
SERVICES["fulfillment"]["depends_on"]["carrier-apis"] = "labels and tracking"
SERVICES["notification"]["depends_on"].update(sendgrid="e-mail", twilio="SMS")

# Edges whose failure degrades the dependent instead of taking it down, per the failure
# modes above ("degrades to permissive mode", "orders still persist", "queue for retry"...).
DEGRADING_DEPENDENCIES = {
    ("api-gateway", "redis"), ("api-gateway", "order"), ("api-gateway", "inventory"),
    ("api-gateway", "search"), ("api-gateway", "billing"), ("auth", "vault"),
    ("order", "rabbitmq"), ("inventory", "rabbitmq"), ("search", "postgresql"),
    ("search", "rabbitmq"), ("billing", "stripe"), ("billing", "redis"),
    ("fulfillment", "carrier-apis"), ("notification", "sendgrid"), ("notification", "twilio"),
    ("ingress-nginx", "cert-manager"), ("cloudfront", "edge-nodes"),
    ("prometheus", "s3"), ("portal", "prometheus"), ("portal", "alertmanager"),
    ("portal", "argocd"), ("portal", "redis"), ("portal", "vault"),
}

# The SPOF method: trace the path from the user to each critical service; the
# user reaches the API services through these entry points.
USER_ENTRY_POINTS = ("api-gateway",)

_APP_CLUSTERS = ["prod-us-east-1", "staging-us-east-1", "dr-eu-west-1"]
_PG_DR = dict(rpo="< 1 minute (PostgreSQL WAL streaming)",
              rto="< 15 minutes (DNS failover + DB promotion + verification)",
              backup="RDS daily snapshots, WAL archived to S3, 7-day point-in-time recovery")
_LOW_PRIORITY_DR = dict(rpo="< 1 minute (state lives in PostgreSQL)",
                        rto="< 4 hours (low-priority workload)",
                        backup="Stateless; data in PostgreSQL and S3 (backups retained 30 days)")


def _dashboards(*paths: str) -> list[dict]:
    by_path = {d.path: d.title for d in catalog_service.dashboard_links()}
    return [{"title": by_path[p], "path": p} for p in paths]


def _app(slug: str, *dashboards: str, dr: dict = _PG_DR, redundancy: str = "") -> dict:
    return dict(repository=f"https://github.com/meridian/{slug}", namespace="meridian-prod",
                clusters=_APP_CLUSTERS, helm_chart=slug,
                dashboards=_dashboards("/d/system-overview", "/d/slo-burn-rate", *dashboards),
                redundancy=redundancy, **dr)


# Per-entry facts beyond SERVICES: repository (GHCR org ghcr.io/meridian), namespace,
# clusters, Grafana dashboards, Helm chart in infra/helm/, redundancy, backups and DR.
CATALOG_FACTS = {
    "api-gateway": _app("api-gateway", "/d/order-pipeline",
                        redundancy="3 replicas + PDB behind Ingress-NGINX"),
    "auth": _app("auth"),
    "order": _app("order", "/d/order-pipeline", redundancy="Canary via Argo Rollouts"),
    "inventory": _app("inventory", "/d/order-pipeline"),
    "search": _app("search", dr=dict(
        rpo="< 30 seconds index lag (rebuildable from PostgreSQL)",
        rto="< 1 hour (reindex from PostgreSQL takes 45 minutes)",
        backup="Index rebuilt from PostgreSQL; no separate backup")),
    "billing": _app("billing"),
    "fulfillment": _app("fulfillment", "/d/order-pipeline"),
    "notification": _app("notification", dr=_LOW_PRIORITY_DR),
    "worker": _app("worker", dr=_LOW_PRIORITY_DR),
    "portal": dict(_app("portal", dr=_PG_DR), repository="https://github.com/meridian/portal",
                   namespace="platform-portal", clusters=["prod-us-east-1"]),
    "postgresql": dict(namespace="RDS (private subnet)", clusters=_APP_CLUSTERS,
                       dashboards=_dashboards("/d/infra-overview"), **_PG_DR,
                       redundancy="Primary + 2 read replicas, RDS Multi-AZ failover 60-120 s; "
                                  "cross-region replica in DR"),
    "redis": dict(namespace="ElastiCache (private subnet)", clusters=_APP_CLUSTERS,
                  dashboards=_dashboards("/d/infra-overview"),
                  rpo="n/a: cache only, authoritative data in PostgreSQL",
                  rto="10-30 s failover; cold start in DR", backup="None (AOF disabled, cache only)",
                  redundancy="Primary + 1 replica (not replicated to DR)"),
    "rabbitmq": dict(namespace="rabbitmq", clusters=_APP_CLUSTERS,
                     dashboards=_dashboards("/d/infra-overview", "/d/order-pipeline"),
                     rpo="In-flight messages are lost on DR failover", rto="< 15 minutes",
                     backup="None (not replicated to DR)",
                     redundancy="3-node cluster with quorum queues, pause-minority"),
    "elasticsearch": dict(namespace="elastic-system", clusters=_APP_CLUSTERS,
                          dashboards=_dashboards("/d/infra-overview"),
                          redundancy="3 data nodes, 2 dedicated masters, 2 replicas per index"),
    "s3": dict(namespace="AWS (VPC endpoint)", dashboards=_dashboards("/d/infra-overview"),
               rpo="0 (S3 durability)", rto="n/a (99.99% available)",
               backup="meridian-backups retained 30 days; reports to Glacier after 90 days",
               redundancy="Managed, multi-AZ"),
    "vault": dict(namespace="vault", clusters=_APP_CLUSTERS,
                  dashboards=_dashboards("/d/infra-overview"),
                  redundancy="HA: 3 pods, Raft storage, auto-unseal via AWS KMS"),
    "ingress-nginx": dict(namespace="ingress", clusters=_APP_CLUSTERS,
                          dashboards=_dashboards("/d/infra-overview", "/d/system-overview"),
                          redundancy="3 replicas behind the AWS NLB"),
    "route53": dict(namespace="AWS", redundancy="Single DNS provider"),
    "prometheus": dict(namespace="monitoring", clusters=_APP_CLUSTERS,
                       dashboards=_dashboards("/d/infra-overview")),
    "alertmanager": dict(namespace="monitoring", clusters=_APP_CLUSTERS,
                         dashboards=_dashboards("/d/oncall-summary")),
    "grafana": dict(namespace="monitoring", clusters=_APP_CLUSTERS),
    "loki": dict(namespace="monitoring", clusters=_APP_CLUSTERS),
    "tempo": dict(namespace="monitoring", clusters=_APP_CLUSTERS),
    "argocd": dict(namespace="argocd", clusters=_APP_CLUSTERS),
    "cert-manager": dict(namespace="cert-manager", clusters=_APP_CLUSTERS),
    "gatekeeper": dict(namespace="gatekeeper-system", clusters=_APP_CLUSTERS),
    "calico": dict(namespace="kube-system", clusters=_APP_CLUSTERS),
    "coredns": dict(namespace="kube-system", clusters=_APP_CLUSTERS),
    "edge-nodes": dict(namespace="bare metal (3 sites)"),
}

# On-call: a weekly 2-person rotation, one schedule per owning team.
ONCALL_ROTATION = "weekly, primary + secondary, handoff Monday 10:00"

# Runbook entry points (above) that belong to one catalog entry, and the alerts they answer.
RUNBOOK_LINKS = {
    "Pod CrashLoopBackOff": (None, ["KubePodCrashLooping"]),
    "High error rate on API Gateway": ("api-gateway", ["APIGatewayHighErrorRate"]),
    "Database connection errors": ("postgresql", ["PostgreSQLConnectionErrors",
                                                  "PgBouncerPoolExhausted"]),
    "RabbitMQ queue backup": ("rabbitmq", ["RabbitMQQueueBackup", "RabbitMQDLQGrowing"]),
    "Node NotReady": (None, ["KubeNodeNotReady"]),
    "Certificate expiry alert": ("cert-manager", ["CertificateExpiringSoon"]),
    "Vault sealed": ("vault", ["VaultSealed"]),
}

# The rollback procedure, quoted in every service runbook.
ROLLBACK = [
    "Helm: `helm rollback <release> <revision>` reverts to the previous manifest set.",
    "ArgoCD: revert the commit in the GitOps repo; ArgoCD syncs it.",
    "Database migrations are forward-only: a rollback needs a new forward migration.",
    "Time to rollback: < 5 minutes for the application, 15-30 minutes with a DB migration.",
]
