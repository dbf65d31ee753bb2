"""Messages owed to the outside world: the outbox (one row per message, written in the
transaction of the change that caused it), webhook endpoints and their deliveries.
The outbox points at the notification by name (a string foreign key): this app sits
below the notification and never imports it. A message about an incident has no
notification and names its subject in its payload (the incidents app sits above)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A message owed to the outside world (e-mails, webhooks), written in the same
    transaction as the change that caused it. A task sends it after commit; the periodic
    relay re-enqueues rows whose enqueue was lost (a crash between commit and enqueue)."""

    # The subject: a notification, or none for a message about another subject (an
    # incident, issue 11), which names itself in the payload: "reference", "path" (its
    # page), "api_path" and "authorities" (the ids of the authorities told).
    notification = models.ForeignKey(
        "notifications.Notification", on_delete=models.CASCADE, related_name="outbox", null=True, blank=True
    )
    topic = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A sender claims a message for a while (a lease), so two workers never send it at once,
    # and a sender that died loses its claim when the lease runs out.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set for messages that must exist once only (a chase step's message to one recipient):
    # the unique constraint, not the broker, makes a repeated sweep unable to write it twice.
    dedup_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The relay: messages not yet dispatched, oldest first.
            models.Index(fields=["created_at"], name="outbox_pending", condition=Q(dispatched_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.topic} {self.notification_id or self.payload.get('reference', '')}"

    @property
    def subject_reference(self) -> str:
        """The reference of what the message is about (a notification, or an incident)."""
        return self.notification.reference if self.notification_id else self.payload.get("reference", "")

    @property
    def subject_path(self) -> str:
        """The page of what the message is about."""
        return self.notification.get_absolute_url() if self.notification_id else self.payload.get("path", "")


class WebhookEvent(models.TextChoices):
    RECEIVED = "notification.received", _("A notification arrived (or an answer to your question)")
    ACKNOWLEDGED = "notification.acknowledged", _("The importing authority acknowledged receipt")
    REPLIED = "notification.replied", _("The importing authority replied")
    INFORMATION_REQUESTED = "notification.information_requested", _("The importing authority asked for information")
    OVERDUE = "notification.overdue", _("A reply is overdue")
    WITHDRAWN = "notification.withdrawn", _("The exporting authority withdrew a notification")
    AMENDED = "notification.amended", _("The exporting authority amended a notification")
    INCIDENT_REPORTED = "incident.reported", _("An incident concerning your country was reported")
    DISPATCHED = "notification.dispatched", _("The exporting authority recorded the dispatch")
    ARRIVED = "notification.arrived", _("The importing authority confirmed the arrival")
    SUSPENDED = "notification.suspended", _("An authority suspended the consignment")
    SUSPENSION_LIFTED = "notification.suspension_lifted", _("The suspension of a consignment was lifted")


class WebhookEndpoint(models.Model):
    """An HTTPS address of an authority's licensing system, told of events on the
    notifications the authority is party to (the event and a link, never the content)."""

    authority = models.ForeignKey("authorities.Authority", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The HMAC key. Kept in clear because every delivery is signed with it; shown once.
    secret = models.CharField(max_length=100, editable=False)
    events = models.JSONField(_("events"), default=list, help_text=_("The event names this endpoint receives."))
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.authority_id}: {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (no more attempts)")


class WebhookDelivery(models.Model):
    """One event owed to one endpoint, and the record of the attempts to deliver it.
    Retries are driven by ``next_attempt_at`` (a periodic task enqueues the due ones),
    not by long broker countdowns; an attempt is claimed with a lease so that two
    workers never send it at once."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Every attempt: [{"at", "status_code", "error"}]; bounded by the retry schedule.
    history = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # An outbox message dispatched twice still owes each endpoint one delivery.
            models.UniqueConstraint(fields=["endpoint", "message"], name="webhook_delivery_once"),
        ]
        indexes = [
            # messaging.webhooks.retry_webhook_deliveries: pending deliveries whose attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status="pending", next_attempt_at__isnull=False),
            ),
            # The delivery log of one endpoint, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"
