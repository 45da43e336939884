"""Per-tenant request counting of the services (no database: the buffer and its bounds)."""
from datetime import UTC, datetime, timezone

from platform_services.common import api_usage
from platform_services.common.api_usage import ApiUsage, hour_of

AT = datetime(2026, 11, 21, 14, 37, 5, tzinfo=UTC)


def _usage() -> ApiUsage:
    return ApiUsage("order", engine=None, tenants=None)


def test_requests_are_counted_per_tenant_and_hour_with_error_classes():
    usage = _usage()
    for status in (200, 201, 404, 422, 500, 503):
        usage.record("acme-retail", status, at=AT)
    usage.record("acme-retail", 200, at=AT.replace(hour=15))
    usage.record("7", 200, at=AT)
    pending = usage.pending()
    hour = datetime(2026, 11, 21, 14, tzinfo=UTC)
    assert pending[("acme-retail", hour)] == {"requests": 6, "client_errors": 2,
                                              "server_errors": 2}
    assert pending[("acme-retail", hour.replace(hour=15))]["requests"] == 1
    assert pending[("7", hour)]["requests"] == 1


def test_hours_are_utc_whatever_the_offset_of_the_timestamp():
    from datetime import timedelta
    local = AT.astimezone(timezone(timedelta(hours=-5)))
    assert hour_of(local) == datetime(2026, 11, 21, 14, tzinfo=UTC)


def test_tenant_names_that_cannot_be_a_tenant_are_not_buffered():
    usage = _usage()
    for ref in ("Bad Name", "../etc", "x" * 80, ""):
        usage.record(ref, 404, at=AT)
    assert usage.pending() == {}


def test_the_buffer_is_bounded_and_counts_what_it_drops(monkeypatch):
    monkeypatch.setattr(api_usage, "MAX_KEYS", 3)
    usage = _usage()
    for n in range(5):
        usage.record(f"tenant-{n}", 200, at=AT)
    usage.record("tenant-0", 200, at=AT)  # an existing key still counts
    assert len(usage.pending()) == 3 and usage.dropped == 2
    assert usage.pending()[("tenant-0", hour_of(AT))]["requests"] == 2


def test_flushing_nothing_touches_no_database():
    assert _usage().flush() == 0  # engine=None would raise if it were used
