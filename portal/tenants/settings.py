"""Settings of the tenants area: reporting database, cache, S3 reports, billing.

Scheduled-report e-mail uses the portal-wide SMTP_* and PUBLIC_BASE_URL settings."""
from portal.config import Setting, parse_optional

SETTINGS = (
    Setting("REPORTING_DATABASE_URL", None, parse_optional,
            "Read replica for dashboards, rollup refresh and reports. Unset: the main database."),
    Setting("S3_ENDPOINT_URL", None, parse_optional,
            "S3 endpoint (e.g. a MinIO or moto URL). Unset: AWS S3 of the configured region."),
    Setting("OBJECT_STORE_DIR", None, parse_optional,
            "Keep report files in this folder instead of S3, served by the portal through "
            "signed URLs (`portal dev` sets INSTANCE_DIR/objects when S3_ENDPOINT_URL is "
            "unset). Unset: S3."),
    Setting("S3_REGION", "us-east-1", str, "AWS region of the S3 client."),
    Setting("S3_REPORTS_BUCKET", "meridian-reports", str,
            "Bucket of tenant reports; keys live under tenants/<tenant id>/reports/."),
    Setting("TENANTS_CACHE_SECONDS", 60, int,
            "How long dashboard aggregates are cached (Redis when REDIS_URL is set)."),
    Setting("TENANTS_LOW_STOCK_THRESHOLD", 10, int,
            "A SKU is low on stock when on hand minus reserved is at or below this."),
    Setting("TENANTS_DOWNLOAD_LINK_SECONDS", 600, int,
            "Lifetime of the portal's signed download link shown on the reports page."),
    Setting("TENANTS_EMAIL_LINK_SECONDS", 7 * 86400, int,
            "Lifetime of the signed download link sent by e-mail with scheduled reports."),
    Setting("TENANTS_S3_URL_SECONDS", 120, int,
            "Expiry of the S3 pre-signed URL a download redirects to (signed fresh each time)."),
    Setting("TENANTS_REPORT_RETENTION_DAYS", 90, int,
            "Reports older than this are listed as archived (Glacier after 90 days)."),
    Setting("TENANTS_PDF_MAX_ROWS", 20000, int,
            "PDF reports stop after this many rows (the CSV has them all)."),
    Setting("BILLING_URL", None, parse_optional,
            "Base URL of the billing service for the dashboard's usage panel. Unset: the "
            "catalog's base_url of the 'billing' service (set for `portal dev`)."),
    Setting("BILLING_TIMEOUT", 2.0, float,
            "Seconds before a billing usage request is given up (connect and read each)."),
    Setting("TENANTS_REPORT_LOST_MINUTES", 10, int,
            "A running report whose build lock is free this long after it started is failed "
            "as 'worker lost'."),
)
