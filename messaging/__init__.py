"""The messages owed to the outside world about a notification: the transactional
outbox, the e-mails sent from it, and webhook endpoints with their signed, retried
deliveries (registration pages and REST API included)."""
