"""Self-service provisioning: templates, policy, jobs, approvals, environments."""
