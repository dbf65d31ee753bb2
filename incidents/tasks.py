"""Celery's autodiscovery finds the incidents' tasks here; they are declared in
incidents.flags, beside the work they do."""

from .flags import flag_open_notifications_task, flag_pending

__all__ = ["flag_open_notifications_task", "flag_pending"]
