"""Entry point for the Celery CLI: `celery -A portal.celery_app worker`."""
from portal.app import create_app

app = create_app().extensions["celery"]
