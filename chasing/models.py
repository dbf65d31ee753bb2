"""What the chase leaves behind: one record per step reached, and INCB's follow-ups.
They point at the notification by name (a string foreign key), so this app imports
the notification's modules and never the other way round."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChaseStep(models.IntegerChoices):
    REMINDER = 1, _("Reminder")
    OVERDUE = 2, _("Overdue")
    ESCALATION = 3, _("Escalated")
    PERSISTENT_SILENCE = 4, _("Persistent silence")


class ChaseRecord(models.Model):
    """One row per notification per chase step reached, dated at the step's due time.
    The unique constraint is what makes each step happen exactly once, whatever the broker,
    the workers or a second scheduler do."""

    notification = models.ForeignKey(
        "notifications.Notification", on_delete=models.CASCADE, related_name="chase_records"
    )
    step = models.PositiveSmallIntegerField(choices=ChaseStep.choices)
    due_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    # Steps recorded while catching up after downtime send no messages of their own.
    messages_sent = models.BooleanField(default=True)

    class Meta:
        ordering = ["notification", "step"]
        constraints = [models.UniqueConstraint(fields=["notification", "step"], name="chase_step_once")]

    def __str__(self):
        return f"{self.notification_id} step {self.step}"


class FollowUpChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    NOTE = "note", _("Note")


class FollowUp(models.Model):
    """INCB staff's record of following up a silent notification with the importing country."""

    notification = models.ForeignKey("notifications.Notification", on_delete=models.CASCADE, related_name="follow_ups")
    channel = models.CharField(max_length=10, choices=FollowUpChannel.choices)
    note = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.notification_id} followed up {self.at:%Y-%m-%d}"
