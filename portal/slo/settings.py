"""Settings of the SLO domain."""
from portal.config import Setting, parse_optional

SETTINGS = (
    Setting("PROMETHEUS_URL", None, parse_optional,
            "Base URL of Prometheus (HTTP API under /api/v1). Set: SLI samples come from "
            "query_range of each SLO's selectors. Unset: the portal scrapes each service's "
            "/metrics (services.base_url) every minute itself."),
    Setting("PROMETHEUS_TIMEOUT", 5.0, float,
            "Seconds before a Prometheus query is given up (then retried a bounded number of "
            "times)."),
    Setting("SLO_SCRAPE_TIMEOUT", 5.0, float,
            "Seconds the per-minute scrape waits for one service's /metrics."),
)
