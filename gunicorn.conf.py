"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "portal:create_app()"`."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"  # htmx polling holds many short requests; threads keep them cheap
timeout = 30
graceful_timeout = 30
keepalive = 5
# A backstop against memory growth, not a routine: at 2,000 requests a busy worker was
# replaced about every 35 s under load, and each replacement rebuilds the app, its pools
# and caches while its share of requests waits. The jitter staggers the workers so they
# never restart together.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = None  # the portal logs each request itself, as JSON with its request id
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    # /metrics aggregates every worker's samples when this directory is set (prometheus_client
    # multiprocess mode); it must exist and be empty at start.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
