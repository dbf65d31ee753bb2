"""Webhook deliveries for outbox messages. Registration and signed delivery are built by
the REST API work (issue 4); until an endpoint model exists there is nothing to deliver."""


def deliver_for(message, *, now) -> int:
    return 0
