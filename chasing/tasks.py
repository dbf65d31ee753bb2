"""Celery's autodiscovery imports ``<app>.tasks``; the task is declared beside the sweep."""

from .sweep import chase_sweep

__all__ = ["chase_sweep"]
