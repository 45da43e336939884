"""Settings of the tenants area: reporting database, cache, S3 reports, billing.

Scheduled-report e-mail uses the portal-wide SMTP_* and PUBLIC_BASE_URL settings."""
from pydantic import Field

from portal.config import EnvSettings, OptionalText


class TenantsSettings(EnvSettings):
    """Tenant dashboards, reports and the billing usage panel."""
    REPORTING_DATABASE_URL: OptionalText = Field(None, description=(
        "Read replica for dashboards, rollup refresh and reports. Unset: the main database."))
    S3_ENDPOINT_URL: OptionalText = Field(None, description=(
        "S3 endpoint (e.g. a MinIO or moto URL). Unset: AWS S3 of the configured region."))
    OBJECT_STORE_DIR: OptionalText = Field(None, description=(
        "Keep report files in this folder instead of S3, served by the portal through signed "
        "URLs (`portal dev` sets INSTANCE_DIR/objects when S3_ENDPOINT_URL is unset). Unset: S3."))
    S3_REGION: str = Field("us-east-1", description="AWS region of the S3 client.")
    S3_REPORTS_BUCKET: str = Field("meridian-reports", description=(
        "Bucket of tenant reports; keys live under tenants/<tenant id>/reports/."))
    TENANTS_CACHE_SECONDS: int = Field(60, description=(
        "How long dashboard aggregates are cached (Redis when REDIS_URL is set)."))
    TENANTS_LOW_STOCK_THRESHOLD: int = Field(10, description=(
        "A SKU is low on stock when on hand minus reserved is at or below this."))
    TENANTS_DOWNLOAD_LINK_SECONDS: int = Field(600, description=(
        "Lifetime of the portal's signed download link shown on the reports page."))
    TENANTS_EMAIL_LINK_SECONDS: int = Field(7 * 86400, description=(
        "Lifetime of the signed download link sent by e-mail with scheduled reports."))
    TENANTS_S3_URL_SECONDS: int = Field(120, description=(
        "Expiry of the S3 pre-signed URL a download redirects to (signed fresh each time)."))
    TENANTS_REPORT_RETENTION_DAYS: int = Field(90, description=(
        "Reports older than this are listed as archived (Glacier after 90 days)."))
    TENANTS_PDF_MAX_ROWS: int = Field(20000, description=(
        "PDF reports stop after this many rows (the CSV has them all)."))
    BILLING_URL: OptionalText = Field(None, description=(
        "Base URL of the billing service for the dashboard's usage panel. Unset: the catalog's "
        "base_url of the 'billing' service (set for `portal dev`)."))
    BILLING_TIMEOUT: float = Field(2.0, description=(
        "Seconds before a billing usage request is given up (connect and read each)."))
    TENANTS_REPORT_LOST_MINUTES: int = Field(10, description=(
        "A running report whose build lock is free this long after it started is failed as "
        "'worker lost'."))


SETTINGS = (TenantsSettings,)
