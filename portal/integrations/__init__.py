"""One thin client module per external system (alertmanager.py, prometheus.py, s3.py, ...):
timeouts, bounded retries, typed results, and a clear exception when the system is down.
Domains use these clients, never raw HTTP."""
