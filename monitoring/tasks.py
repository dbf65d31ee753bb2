"""Celery's autodiscovery finds the monitoring tasks here; they are declared in
monitoring.services, beside the work they do."""

from .services import recompute_pending, recompute_task

__all__ = ["recompute_pending", "recompute_task"]
