"""The REST API's own state: one row per Idempotency-Key of one caller."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one caller (a person, or a licensing system's machine user).

    The key is claimed by INSERT before any work is done; the unique constraint decides
    which of several concurrent requests does the work. The work and the stored response
    are committed in one transaction, so a record that is ``done`` always matches what was
    created, and a crash leaves it ``in_progress`` with nothing created (taken over once
    its lease has run out). See api.idempotency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and the canonical JSON body: a reused key with another body is 422.
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS)
    locked_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]
        # The periodic purge: records older than the retention period.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.user_id}:{self.key} ({self.status})"
