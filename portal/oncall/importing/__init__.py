"""Importers from other on-call tools: Grafana OnCall and Opsgenie."""
