"""Settings of the SLO domain."""
from pydantic import Field

from portal.config import EnvSettings, OptionalText


class SloSettings(EnvSettings):
    """Prometheus and the services' own scrape."""
    PROMETHEUS_URL: OptionalText = Field(None, description=(
        "Base URL of Prometheus (HTTP API under /api/v1). Set: SLI samples come from query_range "
        "of each SLO's selectors. Unset: the portal scrapes each service's /metrics "
        "(services.base_url) every minute itself."))
    PROMETHEUS_TIMEOUT: float = Field(5.0, description=(
        "Seconds before a Prometheus query is given up (then retried a bounded number of times)."))
    SLO_SCRAPE_TIMEOUT: float = Field(5.0, description=(
        "Seconds the per-minute scrape waits for one service's /metrics."))


SETTINGS = (SloSettings,)
