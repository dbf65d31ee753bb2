"""The Celery application. Periodic work is declared here, next to the app, so that the
one beat process and any operator reading the configuration see the same schedule."""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

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


PING_DIR = "celery-ping"
_PING_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@app.task(name="pen_portal.ping")
def ping(token: str = "ping") -> str:
    """Probe that a worker consumes what is sent through the broker (or scheduled by beat):
    writes ``<PEN_VAR_DIR>/celery-ping/<token>``, since results are not stored. Idempotent."""
    from django.conf import settings

    if not _PING_TOKEN.fullmatch(token):
        raise ValueError("A ping token is 1-64 letters, digits, '-' or '_'.")
    folder = Path(settings.VAR_DIR) / PING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{token}.{os.getpid()}.tmp"
    partial.write_text(f"{datetime.now(UTC).isoformat()}\n", encoding="utf-8")
    partial.replace(folder / token)
    return token
