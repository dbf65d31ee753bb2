"""The Celery application. Periodic work is declared here, next to the app, so that the
one beat process and any operator reading the configuration see the same schedule."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pen_portal.settings")

app = Celery("pen_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    schedule = getattr(settings, "CELERY_PERIODIC_TASKS", {})
    for name, (task, seconds) in schedule.items():
        sender.add_periodic_task(seconds, sender.signature(task), name=name)
