"""Celery's autodiscovery imports ``<app>.tasks``; the task is declared beside the sweep."""

from .arrival import arrival_sweep
from .sweep import chase_sweep

__all__ = ["arrival_sweep", "chase_sweep"]
