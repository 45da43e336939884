"""Live health of the platform services on their catalog pages (readiness, RED numbers),
read over HTTP from each service's `base_url`; the portal never imports the services."""
