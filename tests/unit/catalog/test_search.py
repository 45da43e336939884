"""PostgreSQL full-text search over catalog entries and runbooks."""
from sqlalchemy import text

from portal.catalog import service as catalog


def test_search_uses_generated_columns_with_gin_indexes(seeded):
    indexes = dict(seeded.execute(text(
        "select indexname, indexdef from pg_indexes where indexname like 'ix_catalog_%search'")).all())
    assert set(indexes) == {"ix_catalog_services_search", "ix_catalog_runbooks_search"}
    assert all("USING gin (search_vector)" in d for d in indexes.values())
    generated = seeded.execute(text(
        "select table_name from information_schema.columns where column_name = 'search_vector'"
        " and is_generated = 'ALWAYS'")).scalars().all()
    assert sorted(generated) == ["catalog_runbooks", "services"]


def test_search_finds_entries_by_purpose_and_failure_modes(seeded):
    hits = catalog.search(session=seeded, query="overselling")
    assert [(h.kind, h.slug) for h in hits][:1] == [("service", "inventory")]
    names = [h.slug for h in catalog.search(session=seeded, query="shipping labels")]
    assert set(names[:2]) == {"fulfillment", "carrier-apis"}


def test_search_finds_runbooks_and_ranks_titles_first(seeded):
    hits = catalog.search(session=seeded, query="PgBouncer pools")
    assert ("runbook", "database-connection-errors") in [(h.kind, h.slug) for h in hits]
    kinds = [h.kind for h in catalog.search(session=seeded, query="vault sealed")]
    assert "runbook" in kinds and "service" in kinds


def test_search_sees_edits_immediately_and_tolerates_odd_syntax(seeded, order):
    order.purpose = "Handles zeppelin reservations"
    seeded.flush()
    assert [h.slug for h in catalog.search(session=seeded, query="zeppelin")] == ["order"]
    for odd in ['"unclosed', "or or -", "&|!()", "service -order"]:
        catalog.search(session=seeded, query=odd)  # websearch syntax never raises
    assert catalog.search(session=seeded, query="nonexistentword") == []
