"""The composition of the portal: settings, the URL and REST route tables, the Celery
app and its schedule. It imports the apps; no app imports it."""

# Load the Celery app with Django so that shared_task binds to it.
from .celery import app as celery_app

__all__ = ("celery_app",)
