"""Celery's autodiscovery imports ``<app>.tasks``: the tasks themselves are declared
beside the work they do (``outbox``, ``webhooks``), and imported here only to register."""

from .outbox import dispatch_outbox_message, dispatch_outbox_messages, relay_outbox
from .webhooks import deliver_webhook, retry_webhook_deliveries

__all__ = [
    "deliver_webhook",
    "dispatch_outbox_message",
    "dispatch_outbox_messages",
    "relay_outbox",
    "retry_webhook_deliveries",
]
