"""Runbooks answering the alerts of infra/prometheus/*_rules.yml that no entry-point runbook
covers: (slug, title, owning catalog entry or None, alert names, Markdown body)."""
from __future__ import annotations

_ESCALATE = ("\n\n## Escalate\n\nPage the owning team's secondary after 15 minutes without "
             "progress; post status in Slack #incidents while customers are affected.\n")

ALERT_RUNBOOKS: list[tuple[str, str, str | None, list[str], str]] = [
    ("service-down", "Service down", None, ["ServiceDown", "OrderServiceDown"],
     "## What is happening\n\nPrometheus cannot scrape the service: every instance is "
     "down, restarting, or unreachable from the monitoring namespace.\n\n## Check\n\n"
     "1. `kubectl -n meridian-prod get pods -l app=<service>`: running, pending, or "
     "crash looping?\n2. Recent deploys in ArgoCD; a bad release is the usual cause.\n"
     "3. The service's `/readyz`: which dependency fails (PostgreSQL, Redis, RabbitMQ)?\n"
     "\n## Act\n\n- A bad release: roll back (`helm rollback` or revert the GitOps commit)."
     "\n- A failing dependency: follow that dependency's runbook.\n- Pending pods: the "
     "cluster is out of capacity; see Node NotReady." + _ESCALATE),
    ("high-error-rate", "High error rate", None, ["HighErrorRate",
                                                   "OrderServiceHighErrorRate"],
     "## What is happening\n\nMore than 5% of a service's requests fail with a 5xx for "
     "several minutes; this burns its error budget fast.\n\n## Check\n\n1. The service's "
     "logs in Loki for the first error (`{app=\"<service>\"} |= \"ERROR\"`).\n2. Recent "
     "deploys and configuration changes.\n3. Upstream health: the dependencies listed on "
     "the service's catalog page.\n\n## Act\n\n- After a deploy: roll back first, "
     "investigate after.\n- A dependency down: its runbook; the circuit breaker should "
     "shed the load meanwhile." + _ESCALATE),
    ("high-latency", "High latency", None, ["HighLatency", "OrderServiceHighLatency"],
     "## What is happening\n\nThe slowest 5% of requests take over a second.\n\n## Check"
     "\n\n1. Slow queries: `pg_stat_activity` for long-running statements, PgBouncer "
     "waiting clients.\n2. CPU throttling and memory of the pods (dashboard "
     "/d/system-overview).\n3. Traces in Tempo for the slow route: which span takes the "
     "time?\n\n## Act\n\n- Scale out if the pods are saturated (the HPA may lag).\n- Kill "
     "a runaway query; add the missing index in a forward migration." + _ESCALATE),
    ("memory-pressure", "Memory pressure", None, ["HighMemoryPressure",
                                                   "OrderServiceHighMemory"],
     "## What is happening\n\nA node has less than 1 GB available, or a container is close "
     "to its memory limit. Pods use more than expected: a leak, or too little capacity for "
     "the workload.\n\n## Check\n\n1. `kubectl top pods --sort-by=memory` on the node.\n"
     "2. OOM kills: `kubectl get events --field-selector reason=OOMKilling`.\n3. The "
     "container's memory over the last day: a steady climb is a leak.\n\n## Act\n\n- "
     "Short term: restart or evict the largest, least critical pod.\n- Medium term: add "
     "nodes or resize them.\n- Long term: right-size requests and limits from measured "
     "usage.\n\n## Escalate when\n\nSeveral nodes are under pressure at once, or memory "
     "cannot be freed."),
    ("pod-not-ready", "Pod not ready", None, ["PodNotReady"],
     "## What is happening\n\nA pod has failed its readiness probe for 10 minutes and gets "
     "no traffic.\n\n## Check\n\n1. `kubectl describe pod`: the probe's failure message.\n"
     "2. The pod's `/readyz` body names the failing dependency.\n3. Whether the other "
     "replicas of the service are ready (customers are only affected if none is).\n\n"
     "## Act\n\n- A dependency: follow its runbook.\n- A stuck pod: delete it; its "
     "ReplicaSet starts a new one." + _ESCALATE),
    ("database-connection-pool-saturation", "Database connection pool saturation",
     "postgresql", ["DBConnectionPoolExhausted", "OrderServiceDBPoolExhausted"],
     "## What is happening\n\nActive connections to a database are above 80% of "
     "`max_connections`; new connections will soon be refused.\n\n## Check\n\n1. Who "
     "holds them: `SELECT usename, application_name, state, count(*) FROM "
     "pg_stat_activity GROUP BY 1, 2, 3 ORDER BY 4 DESC;`\n2. PgBouncer pools "
     "(`SHOW POOLS;`): clients waiting?\n3. Long transactions: `state = 'idle in "
     "transaction'` older than a minute.\n\n## Act\n\n- Terminate runaway sessions "
     "(`pg_terminate_backend`).\n- Lower the offending service's pool size, or scale "
     "PgBouncer rather than raising `max_connections`." + _ESCALATE),
    ("database-replication-lag", "Database replication lag", "postgresql",
     ["DatabaseReplicationLagHigh"],
     "## What is happening\n\nA read replica is more than 30 seconds behind the primary; "
     "reports and search indexing read stale data.\n\n## Check\n\n1. The lag: `SELECT "
     "now() - pg_last_xact_replay_timestamp();` on the replica.\n2. Replication slots on "
     "the primary: `SELECT slot_name, restart_lsn, confirmed_flush_lsn FROM "
     "pg_replication_slots;`\n3. Network between primary and replica, and the replica's "
     "CPU and disk I/O.\n\n## Causes and fixes\n\n- Network latency: lag is high but the "
     "replica responds; check connectivity and packet loss.\n- Heavy writes on the "
     "primary: pause non-critical writes, or scale the replica up.\n- The replica hung: "
     "restart PostgreSQL on it and watch its log while it catches up.\n\n## Escalate when"
     "\n\nThe lag stays above 10 seconds for 15 minutes, the replica is unreachable, or "
     "data corruption is suspected: page the database team lead."),
    ("rabbitmq-resource-alarm", "RabbitMQ resource alarm", "rabbitmq",
     ["RabbitMQDiskAlarm", "RabbitMQMemoryAlarm"],
     "## What is happening\n\nA RabbitMQ node raised its disk or memory alarm and blocks "
     "every publisher: orders stop reaching fulfillment and notifications.\n\n## Check\n\n"
     "1. `rabbitmq-diagnostics alarms` and `rabbitmq-diagnostics status` on each node.\n"
     "2. The deepest queues (`rabbitmqctl list_queues name messages consumers`): a queue "
     "backing up during a consumer outage is the usual cause of the memory alarm.\n3. "
     "Free disk of the node's volume.\n\n## Act\n\n- Restore the consumers of the backed-"
     "up queue (see RabbitMQ queue backup).\n- Disk: grow the volume; never delete "
     "quorum queue data by hand." + _ESCALATE),
    ("elasticsearch-cluster-health", "Elasticsearch cluster health", "elasticsearch",
     ["ElasticsearchClusterRed", "ElasticsearchClusterYellow",
      "ElasticsearchHeapPressure"],
     "## What is happening\n\nYellow: a replica shard is unassigned. Red: a primary is, "
     "and searches on that index fail. Heap pressure slows every query.\n\n## Check\n\n"
     "1. `GET _cluster/health` and `GET _cat/shards?v&h=index,shard,prirep,state,"
     "unassigned.reason`.\n2. `GET _cluster/allocation/explain` for the first unassigned "
     "shard.\n3. Heap and GC of the data nodes (`GET _nodes/stats/jvm`).\n\n## Act\n\n- A "
     "lost node: let the ECK operator replace it; allocation resumes.\n- Mapping "
     "explosion: stop the writer adding dynamic fields.\n- Red and not recovering: "
     "rebuild the index from PostgreSQL (about 45 minutes)." + _ESCALATE),
    ("prometheus-health", "Prometheus health", "prometheus",
     ["PrometheusHighMetricCardinality", "PrometheusRuleEvaluationFailures"],
     "## What is happening\n\nA scrape target exposes too many series (usually a label "
     "with unbounded values: user, tenant or order ids), or rules fail to evaluate and "
     "their alerts cannot fire.\n\n## Check\n\n1. The top series counts: `topk(10, count "
     "by (__name__) ({__name__=~\".+\"}))`.\n2. Prometheus's own log for the failing rule "
     "group's error.\n\n## Act\n\n- Cardinality: move the unbounded value out of the "
     "labels (logs or traces carry it), or drop it with `metric_relabel_configs`.\n- "
     "Failing rules: fix the rule file; `promtool check rules` and `promtool test rules` "
     "run in CI."),
    ("certificate-not-ready", "Certificate not ready", "cert-manager",
     ["CertificateNotReady"],
     "## What is happening\n\ncert-manager could not issue or renew a certificate; the "
     "secret keeps the previous one until it expires.\n\n## Check\n\n1. `kubectl describe "
     "certificate <name> -n <namespace>` and its CertificateRequest and Order.\n2. The "
     "issuer: `kubectl describe clusterissuer <issuer>` is Ready?\n3. For Let's Encrypt, "
     "the DNS-01 challenge (`kubectl get challenges -A`).\n4. cert-manager's logs.\n\n"
     "## Act\n\nFix the issuer or the challenge, then `cmctl renew <name> -n "
     "<namespace>`. The catalog's Certificates page shows each certificate's expiry."),
    ("error-budget-burn", "Error budget burn", None, ["ErrorBudgetBurn"],
     "## What is happening\n\nAn SLO spends its error budget faster than its period "
     "allows, measured over a long and a short window at once (the alert's `slo`, "
     "`long_window` and `short_window` labels). `severity=page`: 14.4x over 1h/5m or 6x "
     "over 6h/30m, the month's budget is gone in days. `severity=ticket`: 3x over 1d/2h or "
     "1x over 3d/6h, a slow leak to fix this week.\n\n## Check\n\n1. The SLO's page "
     "under SLOs (`/slo/`): which SLI burns (availability or latency), the budget left and "
     "the forecast.\n2. The SLO Burn Rate dashboard from the alert (`dashboard_url`): when "
     "the burn started, and whether it still climbs in the short window.\n3. The service's "
     "recent changes: deploys and jobs on its catalog page, a canary in progress.\n4. The "
     "service's error logs in Loki (`{app=\"<service>\", level=~\"ERROR|CRITICAL\"}`) and "
     "the health of its dependencies.\n\n## Act\n\n- Burn started with a release: roll "
     "it back first (revert the GitOps commit, or abort the canary), investigate after.\n"
     "- A dependency fails: follow its runbook; shed or queue load meanwhile.\n- A latency "
     "SLI: look for saturation (CPU throttling, connection pools) and scale out.\n- The "
     "budget is exhausted: production deploys of the service freeze; only reliability "
     "fixes ship, unless a manager grants an override with a justification.\n\n"
     "## Resolve\n\nThe page clears once the short window drops under the threshold; the "
     "ticket stays until the slow burn ends. Write up any page-level burn as an incident."
     + _ESCALATE),
    ("dead-letters", "Dead letters", None, ["DeadLetterQueueGrowing", "DeadLettersWaiting"],
     "## What is happening\n\nA service gave up on messages after their last retry and "
     "moved them to the dead-letter queue of the alert's `queue` (labels `service`, "
     "`queue`). Growing: it keeps happening right now, so some orders, reservations or "
     "notifications are not being processed. Waiting: old dead letters sit there for "
     "hours and will hide the next failure.\n\n## Check\n\n1. The portal's Dead letters "
     "page (`/health/dead-letters/`): the service's queue, its depth and the first "
     "message's error and headers.\n2. Whether the error is in the message (bad payload, "
     "unknown tenant) or in the consumer (a dependency down, a bug after a deploy): the "
     "service's error logs and recent deploys.\n3. RabbitMQ's health (see RabbitMQ queue "
     "backup) when many queues dead-letter at once.\n\n## Act\n\n- Fix the cause first: "
     "roll back the consumer's release or restore the dependency.\n- Then **Redrive** the "
     "queue from the Dead letters page; the consumers' inbox makes a redriven message take "
     "effect once.\n- **Discard** only messages that can never succeed (a deleted tenant, "
     "an invalid payload), and note which in the incident or the ticket.\n\n## Escalate "
     "when\n\nOrders are among the dead letters and cannot be redriven within the hour: "
     "page the owning team, the tenants may need to be told."),
    ("security-events-spike", "Security events spike", None, ["SecurityEventsSpike"],
     "## What is happening\n\nMore than 0.5 refused requests a second of one `kind` for "
     "5 minutes on the portal or a platform service (`job`, `service` labels): failed "
     "sign-ins (`login_failed`), permission denials (`forbidden`), hostile input "
     "(`hostile_input`), refused tokens, scopes or tenants, or refused outbound targets "
     "(`outbound_refused`). A trickle is normal; a burst is someone guessing passwords, "
     "tokens, ids or internal addresses.\n\n## Check\n\n1. The portal's audit log "
     "(the Audit log page), action `security.<kind>`: the sources (user or client IP), "
     "the paths and the reasons.\n2. For the services, their logs in Loki around the "
     "alert (`{app=\"<service>\"} |= \"refused\"`).\n3. Whether one account, one API "
     "token or one address accounts for most events, and whether any attempt "
     "succeeded afterwards (a sign-in or token use from the same source).\n\n## Act\n\n"
     "- One source: block it at the edge (a `deny` in infra/nginx, or the load balancer's WAF).\n- An API "
     "token or a service client secret being tried or leaked: revoke or rotate it now "
     "(API tokens page, Vault).\n- Password guessing on one account: disable the account "
     "and ask its owner to reset.\n- `outbound_refused`: someone tries to point a webhook "
     "at an internal address; find the webhook's owner in the audit log.\n\n## Escalate "
     "when\n\nAn attempt succeeded, or tenant data may have been read: open a security "
     "incident and page the security lead."),
]
