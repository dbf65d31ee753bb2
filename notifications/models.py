"""Pre-export notifications, their items, replies, timeline and risk signals."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_REPLY = "awaiting_reply", _("Awaiting reply")
    INFORMATION_REQUESTED = "information_requested", _("Information requested")
    NO_OBJECTION = "no_objection", _("No objection")
    OBJECTION = "objection", _("Objection")
    WITHDRAWN = "withdrawn", _("Withdrawn")


FINAL_DECISIONS = (Status.NO_OBJECTION, Status.OBJECTION)
# Statuses in which the importing country still owes a reply.
OPEN_STATUSES = (Status.AWAITING_REPLY, Status.INFORMATION_REQUESTED)


class Action(models.TextChoices):
    SUBMIT = "submit", _("Send")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge receipt")
    REPLY_NO_OBJECTION = "no_objection", _("Reply: no objection")
    REPLY_OBJECTION = "objection", _("Reply: objection")
    REQUEST_INFORMATION = "information_requested", _("Request information")
    PROVIDE_INFORMATION = "provide_information", _("Answer the request for information")
    WITHDRAW = "withdraw", _("Withdraw")
    EDIT_DRAFT = "edit_draft", _("Edit draft")
    DELETE_DRAFT = "delete_draft", _("Delete draft")
    SHARE = "share", _("Share")
    ATTACH = "attach", _("Attach a document")
    AMEND = "amend", _("Amend")
    DISPATCH = "dispatch", _("Record the dispatch")
    CONFIRM_ARRIVAL = "confirm_arrival", _("Confirm the arrival")
    SUSPEND = "suspend", _("Suspend the consignment")
    LIFT_SUSPENSION = "lift_suspension", _("Lift the suspension")


# The one table of allowed transitions: action -> (statuses it may start from, status it
# leads to). ``None`` as the target means the status does not change. Services apply it
# with a conditional UPDATE on the old status, so two concurrent actions never both win.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    Action.SUBMIT: ((Status.DRAFT,), Status.AWAITING_REPLY),
    Action.ACKNOWLEDGE: ((Status.AWAITING_REPLY, Status.INFORMATION_REQUESTED, *FINAL_DECISIONS), None),
    Action.REPLY_NO_OBJECTION: (OPEN_STATUSES, Status.NO_OBJECTION),
    Action.REPLY_OBJECTION: (OPEN_STATUSES, Status.OBJECTION),
    Action.REQUEST_INFORMATION: ((Status.AWAITING_REPLY,), Status.INFORMATION_REQUESTED),
    Action.PROVIDE_INFORMATION: ((Status.INFORMATION_REQUESTED,), Status.AWAITING_REPLY),
    Action.WITHDRAW: (OPEN_STATUSES, Status.WITHDRAWN),
    Action.EDIT_DRAFT: ((Status.DRAFT,), None),
    Action.DELETE_DRAFT: ((Status.DRAFT,), None),
    Action.SHARE: ((Status.AWAITING_REPLY, Status.INFORMATION_REQUESTED, *FINAL_DECISIONS, Status.WITHDRAWN), None),
    Action.ATTACH: ((Status.DRAFT, *OPEN_STATUSES, *FINAL_DECISIONS), None),
    # While the importing country decides; after a final reply, a changed shipment is a new notification.
    Action.AMEND: (OPEN_STATUSES, None),
    # After no objection; under a tacit-consent regime also after the reply period without a
    # reply (services.dispatch checks the period). Once each (services check the dates).
    Action.DISPATCH: ((Status.NO_OBJECTION, Status.AWAITING_REPLY), None),
    Action.CONFIRM_ARRIVAL: ((Status.NO_OBJECTION, Status.AWAITING_REPLY), None),
    # A consignment is suspended while it may still leave or travel; a suspension is lifted
    # whatever became of the notification meanwhile.
    Action.SUSPEND: ((*OPEN_STATUSES, Status.NO_OBJECTION), None),
    Action.LIFT_SUSPENSION: ((*OPEN_STATUSES, *FINAL_DECISIONS, Status.WITHDRAWN), None),
}


class Unit(models.TextChoices):
    KG = "kg", "kg"
    G = "g", "g"
    L = "l", "l"
    ML = "ml", "ml"


class Form(models.TextChoices):
    SUBSTANCE = "substance", _("Substance")
    PREPARATION = "preparation", _("Preparation")
    MIXTURE = "mixture", _("Mixture")


class ModeOfTransport(models.TextChoices):
    SEA = "sea", _("Sea")
    AIR = "air", _("Air")
    ROAD = "road", _("Road")
    RAIL = "rail", _("Rail")
    POST = "post", _("Post")
    OTHER = "other", _("Other")


class ReferenceCounter(models.Model):
    """The last reference number issued per exporting country and year. Incremented with
    an UPDATE inside the filing transaction, which locks the row, so two officers filing
    at the same instant get consecutive numbers, never the same one."""

    country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["country", "year"], name="reference_counter_unique")]

    def __str__(self):
        return f"{self.country_id}-{self.year}: {self.last}"


class NotificationKind(models.TextChoices):
    # Article 12(10)(a) of the 1988 Convention for Table I and II substances; CND resolution
    # 60/5 (para. 4) for suspicious consignments of chemicals on no table.
    SCHEDULED = "scheduled", _("Scheduled: a Table I or II substance")
    VOLUNTARY = "voluntary", _("Voluntary: a suspicious consignment of a non-scheduled chemical")


class Notification(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=25, choices=Status.choices, default=Status.DRAFT)
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=NotificationKind.choices,
        default=NotificationKind.SCHEDULED,
        db_default=NotificationKind.SCHEDULED,
    )
    # Why a voluntary notification is sent (required for that kind).
    suspicion = models.TextField(_("grounds for suspicion"), blank=True, db_default="")
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Bumped by every change; the ETag.")

    exporting_authority = models.ForeignKey(
        "authorities.Authority", on_delete=models.PROTECT, related_name="outgoing_notifications"
    )
    exporting_country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT, related_name="+")
    importing_country = models.ForeignKey(
        "authorities.Country", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The importing country's focal point when the notification was sent.
    importing_authority = models.ForeignKey(
        "authorities.Authority", on_delete=models.PROTECT, related_name="incoming_notifications", null=True, blank=True
    )
    national_reference = models.CharField(_("your reference"), max_length=100, blank=True)

    exporter_name = models.CharField(_("exporter"), max_length=200, blank=True)
    exporter_address = models.TextField(_("exporter's address"), blank=True)
    exporter_licence_number = models.CharField(_("exporter's licence number"), max_length=100, blank=True)
    importer_name = models.CharField(_("importer"), max_length=200, blank=True)
    importer_address = models.TextField(_("importer's address"), blank=True)
    importer_licence_number = models.CharField(_("importer's licence number"), max_length=100, blank=True)
    consignee_name = models.CharField(_("ultimate consignee"), max_length=200, blank=True)
    consignee_address = models.TextField(_("consignee's address"), blank=True)
    consignee_licence_number = models.CharField(_("consignee's licence number"), max_length=100, blank=True)
    broker_name = models.CharField(_("broker"), max_length=200, blank=True)
    broker_address = models.TextField(_("broker's address"), blank=True)
    broker_licence_number = models.CharField(_("broker's licence number"), max_length=100, blank=True)

    point_of_exit = models.CharField(_("point of exit"), max_length=200, blank=True)
    point_of_entry = models.CharField(_("point of entry"), max_length=200, blank=True)
    mode_of_transport = models.CharField(
        _("mode of transport"), max_length=10, choices=ModeOfTransport.choices, blank=True
    )
    carrier = models.CharField(_("carrier"), max_length=200, blank=True)
    expected_dispatch = models.DateField(_("expected dispatch date"), null=True, blank=True)
    import_authorization_number = models.CharField(_("import authorisation number"), max_length=100, blank=True)
    end_use = models.TextField(_("declared end use"), blank=True)

    reply_due = models.DateField(_("reply due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    submitted_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("final reply at"), null=True, blank=True)
    # The first answer of any kind (final reply or request for information): "on time" counts it.
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Whether that first answer came by the reply deadline (None: no answer yet). Fixed
    # when it happens, because a request for information later moves reply_due.
    answered_on_time = models.BooleanField(null=True, blank=True)
    information_requested_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    # Chasing (notifications.clock sets it, chasing.sweep walks it): the next instant the sweep must look at this row.
    next_chase_at = models.DateTimeField(null=True, blank=True)
    chase_step = models.PositiveSmallIntegerField(default=0)

    # The shipment after the reply (issue 14): dispatch recorded by the exporting authority,
    # arrival confirmed by the importing one; the quantities are on the items.
    dispatched_on = models.DateField(_("dispatched on"), null=True, blank=True)
    dispatch_recorded_at = models.DateTimeField(null=True, blank=True)
    arrived_on = models.DateField(_("arrived on"), null=True, blank=True)
    arrival_recorded_at = models.DateTimeField(null=True, blank=True)
    # A database default too: the bulk seeder (demo.scale) COPYs rows without this column.
    arrival_comment = models.TextField(_("comment on the arrival"), blank=True, db_default="")
    # The arrival ladder (chasing.arrival): when the sweep must remind the importing
    # authority of an unconfirmed arrival; cleared by the conditional UPDATE that claims the
    # reminder (once) and by the confirmation.
    arrival_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = []
        # A draft saves whatever its author has filled in (issue 18); the service refuses to
        # send an incomplete one, and the database refuses a sent one without its addressee.
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(
                    importing_country__isnull=False, importing_authority__isnull=False, expected_dispatch__isnull=False
                ),
                name="notif_sent_is_addressed",
            ),
        ]
        indexes = [
            # The importing authority's inbox: its open notifications by due date.
            models.Index(fields=["importing_country", "status", "reply_due"], name="notif_importing_inbox"),
            models.Index(fields=["exporting_authority", "status", "-created_at"], name="notif_exporting_outbox"),
            # The API list (notifications.api: newest change first) of one role and status,
            # e.g. a licensing system's "awaiting our reply": a page of 50 read in index
            # order instead of sorting every open row (docs/performance.md).
            models.Index(fields=["importing_country", "status", "-updated_at", "-id"], name="notif_inbox_changed"),
            models.Index(fields=["exporting_authority", "status", "-updated_at", "-id"], name="notif_outbox_changed"),
            models.Index(fields=["updated_at"], name="notif_updated"),
            # The exporter's dashboard (notifications.views._tiered_section): its open
            # notifications of one status by due date.
            models.Index(fields=["exporting_authority", "status", "reply_due"], name="notif_outbox_due"),
            # The dashboard's recent replies, in each direction, newest first.
            models.Index(
                fields=["exporting_authority", "-replied_at"],
                name="notif_outbox_replied",
                condition=Q(replied_at__isnull=False),
            ),
            models.Index(
                fields=["importing_country", "-replied_at"],
                name="notif_inbox_replied",
                condition=Q(replied_at__isnull=False),
            ),
            # Timeliness figures (timeliness.stats): a period is a range of reply_due.
            models.Index(fields=["reply_due"], name="notif_reply_due"),
            # The chase sweep: open notifications whose next chase instant has come.
            models.Index(
                fields=["next_chase_at"],
                name="notif_chase_due",
                condition=Q(next_chase_at__isnull=False),
            ),
            # INCB's reconciliation (timeliness.reconciliation): a period is a range of dispatch dates.
            models.Index(
                fields=["dispatched_on"],
                name="notif_dispatched",
                condition=Q(dispatched_on__isnull=False),
            ),
            # The arrival sweep: dispatched notifications whose arrival reminder has come.
            models.Index(
                fields=["arrival_check_at"],
                name="notif_arrival_due",
                condition=Q(arrival_check_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("notifications:detail", args=[self.reference])

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_DECISIONS

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now) -> bool:
        """Awaiting a reply after the due date (a request for information stops the clock)."""
        return self.status == Status.AWAITING_REPLY and self.reply_due is not None and self.reply_due < now.date()

    def days_left(self, now) -> int | None:
        if self.reply_due is None:
            return None
        return (self.reply_due - now.date()).days


class TransitCountry(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="transits")
    country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "position"], name="transit_position_unique"),
            models.UniqueConstraint(fields=["notification", "country"], name="transit_country_unique"),
        ]
        # Visibility: "notifications routed through my country".
        indexes = [models.Index(fields=["country", "notification"], name="transit_country_idx")]

    def __str__(self):
        return f"{self.notification_id} via {self.country_id}"


class Item(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    substance = models.ForeignKey(
        "authorities.Substance", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # A chemical outside the catalogue (voluntary notifications only): named, with its CAS
    # registry number (check digit verified) where it has one.
    chemical_name = models.CharField(_("chemical name"), max_length=200, blank=True, db_default="")
    cas_number = models.CharField(_("CAS number"), max_length=12, blank=True, db_default="")
    form = models.CharField(_("form"), max_length=15, choices=Form.choices, default=Form.SUBSTANCE)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    concentration_percent = models.DecimalField(
        _("concentration %"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    quantity = models.DecimalField(_("quantity"), max_digits=15, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=3, choices=Unit.choices, blank=True)
    packages = models.CharField(_("packages"), max_length=200, blank=True)
    shipped_quantity = models.DecimalField(
        _("quantity shipped"), max_digits=15, decimal_places=3, null=True, blank=True
    )
    received_quantity = models.DecimalField(
        _("quantity received"), max_digits=15, decimal_places=3, null=True, blank=True
    )
    # The notification's destination and sending time, copied when it is sent (a sent
    # notification never changes either), and its status, copied at every transition
    # (services._transition, the one place a status changes), so that the estimates and the
    # risk flags read a country's items of a substance over a period from one index alone,
    # instead of joining every item of the substance worldwide, or each item found, to the
    # notifications (docs/performance.md, issue 13).
    importing_country = models.ForeignKey(
        "authorities.Country", on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    notification_status = models.CharField(max_length=25, choices=Status.choices, default=Status.DRAFT)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(
                fields=["substance", "importing_country", "submitted_at"],
                include=["notification", "notification_status", "quantity", "unit", "form", "concentration_percent"],
                condition=Q(submitted_at__isnull=False),
                name="item_by_destination",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "position"], name="item_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(concentration_percent__isnull=True)
                | Q(concentration_percent__gt=0, concentration_percent__lte=100),
                name="item_concentration_range",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} {self.unit} {self.substance_id or self.chemical_name}"

    @property
    def name(self) -> str:
        """What the item is, for people: the catalogue's name, or the chemical named outside it."""
        if self.substance_id is not None:
            return self.substance.name
        return self.chemical_name


class ResponseKind(models.TextChoices):
    NO_OBJECTION = "no_objection", _("No objection")
    OBJECTION = "objection", _("Objection")
    INFORMATION_REQUESTED = "information_requested", _("Request for information")
    INFORMATION_PROVIDED = "information_provided", _("Information provided")


class Suspension(models.Model):
    """A consignment suspended pending verification by an authority party to the
    notification (CND resolution 60/5, para. 9): at most one in force; lifted only by the
    authority that suspended it; kept, lifted or not, as the notification's history."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="suspensions")
    authority = models.ForeignKey("authorities.Authority", on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_comment = models.TextField(_("comment on lifting"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            # Two authorities suspending at once: the second INSERT fails, never two in force.
            models.UniqueConstraint(
                fields=["notification"], condition=Q(lifted_at__isnull=True), name="one_suspension_in_force"
            ),
        ]

    def __str__(self):
        return f"{self.notification_id} suspended by {self.authority_id}"


class Response(models.Model):
    """A reply by the importing authority, or the exporter's answer to a request for information."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="responses")
    kind = models.CharField(max_length=25, choices=ResponseKind.choices)
    comment = models.TextField(blank=True)
    authority = models.ForeignKey("authorities.Authority", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # At most one final decision per notification, whatever the race.
            models.UniqueConstraint(
                fields=["notification"],
                condition=Q(kind__in=["no_objection", "objection"]),
                name="response_one_final_decision",
            ),
        ]

    def __str__(self):
        return f"{self.notification_id}: {self.kind}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Draft created")
    EDITED = "edited", _("Draft edited")
    AMENDED = "amended", _("Amended")
    DISPATCHED = "dispatched", _("Dispatched")
    ARRIVED = "arrived", _("Arrival confirmed")
    ARRIVAL_REMINDED = "arrival_reminded", _("Reminder: arrival not confirmed")
    DISCREPANCY_EXPLAINED = "discrepancy_explained", _("Quantity difference explained")
    SUSPENDED = "suspended", _("Consignment suspended")
    SUSPENSION_LIFTED = "suspension_lifted", _("Suspension lifted")
    SUBMITTED = "submitted", _("Sent to the importing country")
    ACKNOWLEDGED = "acknowledged", _("Receipt acknowledged")
    REPLIED = "replied", _("Replied")
    INFORMATION_REQUESTED = "information_requested", _("Information requested")
    INFORMATION_PROVIDED = "information_provided", _("Information provided")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SHARED = "shared", _("Shared")
    SHARE_REVOKED = "share_revoked", _("Share revoked")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    REMINDER = "reminder", _("Reminder sent")
    OVERDUE = "overdue", _("Overdue")
    ESCALATED = "escalated", _("Escalated")
    PERSISTENT_SILENCE = "persistent_silence", _("Persistent silence")
    SILENCE_RESOLVED = "silence_resolved", _("Silence resolved")
    FOLLOWED_UP = "followed_up", _("Followed up by INCB")


class Event(models.Model):
    """The append-only timeline: who (person and authority) did what, and when.

    Tamper-evident (notifications.timeline): ``hash`` is the SHA-256 of the previous event's
    hash of the same notification (in id order; ``timeline.GENESIS`` for the first) and of
    this event's canonical content, so a changed, removed or inserted event breaks the chain
    that ``manage.py verify_timeline`` recomputes. On PostgreSQL two triggers refuse every
    UPDATE and DELETE of a row; only ``services.delete_draft`` (a draft's own timeline) and
    the simulator's ``demo.scale.remove_due`` (rows it wrote) switch the delete trigger off,
    for their one statement, with ``pgtrigger.ignore(timeline.NO_DELETE)``. TRUNCATE (the
    test teardown of transactional tests, ``seed_scale --reset``) is not a row operation and
    is not refused. On SQLite (development, the quick test run) no trigger is installed:
    there only the chain shows a change."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=25, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_authority = models.ForeignKey(
        "authorities.Authority", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Hex SHA-256 chaining this event to the previous one of its notification (timeline.link_hash).
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["notification", "at"], name="event_timeline")]
        constraints = [
            # A writer that forgets the chain fails at once, instead of leaving a broken link.
            models.CheckConstraint(condition=~Q(hash=""), name="event_hash_set"),
        ]
        triggers = [
            pgtrigger.Protect(name="event_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="event_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.notification_id} {self.kind} {self.at:%Y-%m-%d}"


class RiskKind(models.TextChoices):
    # Every flag of the contract ("Risk flags"), declared at once so that the apps that
    # raise them (chasing, incidents, the risk module, the shipment's arrival) share one list.
    SILENCE = "silence", _("Silence: no reply by the due date")
    ALR_EXCEEDED = "alr_exceeded", _("Above the importing country's annual legitimate requirement")
    UNUSUAL_QUANTITY = "unusual_quantity", _("Unusual quantity for this substance and country")
    NEW_IMPORTER = "new_importer", _("First notification to this importer")
    PRIOR_OBJECTION = "prior_objection", _("The importer or consignee was objected to before")
    INCIDENT_PARTY = "incident_party", _("A party is named in an incident")
    QUANTITY_DISCREPANCY = "quantity_discrepancy", _("Received quantity differs from the dispatched one")
    ARRIVAL_UNCONFIRMED = "arrival_unconfirmed", _("Arrival not confirmed 30 days after dispatch")


class RiskSignal(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="risk_signals")
    kind = models.CharField(max_length=20, choices=RiskKind.choices)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)
    # The numbers behind ``detail``, language-free: notifications.risk.detail_of words
    # them in the reader's language (``detail`` is the English record).
    data = models.JSONField(default=dict, blank=True, db_default={})

    class Meta:
        ordering = ["raised_at"]
        constraints = [models.UniqueConstraint(fields=["notification", "kind"], name="risk_signal_once")]

    def __str__(self):
        return f"{self.notification_id} {self.kind}"


def attachment_path(instance, filename):
    # Never the uploaded name: it is user input. The original is kept in a column.
    return f"attachments/{instance.notification_id}/{instance.token}"


class Attachment(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


# django-guardian with direct foreign keys: a generic object permission casts the primary
# key to text and cannot use an index; these tables join on an integer column.
class NotificationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Notification, on_delete=models.CASCADE)


class NotificationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Notification, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        # Visibility of shared notifications: "rows shared with my authority's group".
        indexes = [models.Index(fields=["group", "content_object"], name="notif_share_group_idx")]


class NotificationRead(models.Model):
    """That someone of ``authority`` has opened the notification's page: until then the
    notification is "new" to that authority (the badge in its lists). One row per
    notification and authority, written once (services.record_opened), never updated: the
    first opening is what clears the badge for everyone of the authority."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    authority = models.ForeignKey("authorities.Authority", on_delete=models.PROTECT, related_name="+")
    first_opened_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            # One row per authority (the write is ON CONFLICT DO NOTHING); its index answers
            # the lists' "opened by my authority?" (notifications.reads.with_new_marker).
            models.UniqueConstraint(fields=["notification", "authority"], name="notif_read_once"),
        ]

    def __str__(self):
        return f"{self.notification_id} opened by {self.authority_id}"
