"""What every Meridian service shares: config, app factory, metrics, logs, messaging,
the transactional outbox, object storage and the process runner."""
