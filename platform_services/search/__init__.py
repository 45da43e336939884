"""Search service: per-tenant product search on Elasticsearch, PostgreSQL full-text as default and fallback."""
