"""Celery's autodiscovery imports ``<app>.tasks``; the task is declared beside the work."""

from .idempotency import purge_idempotency_records

__all__ = ["purge_idempotency_records"]
