"""An incident, its substances, parties and route, its append-only history, and the
normalised party names of sent notifications that backtracking searches."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class IncidentKind(models.TextChoices):
    SEIZURE = "seizure", _("Seizure")
    STOPPED_SHIPMENT = "stopped_shipment", _("Stopped shipment")
    SUSPENDED_SHIPMENT = "suspended_shipment", _("Suspended shipment")
    DIVERSION_ATTEMPT = "diversion_attempt", _("Diversion attempt")
    ILLICIT_LABORATORY = "illicit_laboratory", _("Illicit laboratory")
    OTHER = "other", _("Other")


class Visibility(models.TextChoices):
    # The reporting country, the route's countries, shared_with, the related
    # notifications' countries and INCB (incidents.access).
    CONCERNED = "concerned", _("The countries concerned and INCB")
    ALL = "all", _("Every competent authority")


class PartyRole(models.TextChoices):
    EXPORTER = "exporter", _("Exporter")
    IMPORTER = "importer", _("Importer")
    CONSIGNEE = "consignee", _("Consignee")
    BROKER = "broker", _("Broker")
    CARRIER = "carrier", _("Carrier")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    KG = "kg", "kg"
    G = "g", "g"
    L = "l", "l"
    ML = "ml", "ml"


class IncidentCounter(models.Model):
    """The last incident number issued per year (one sequence for the world: an incident
    is INC-YYYY-NNNNNN, not per country). Incremented by an UPDATE in the reporting
    transaction, which locks the row until commit, so concurrent reporters queue."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Incident(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Bumped by every change; the ETag.")
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    occurred_on = models.DateField(_("occurred on"))
    country = models.ForeignKey(
        "authorities.Country", verbose_name=_("reporting country"), on_delete=models.PROTECT, related_name="+"
    )
    authority = models.ForeignKey(
        "authorities.Authority", verbose_name=_("reporting authority"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"))
    modus_operandi = models.TextField(_("modus operandi"), blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.CONCERNED
    )
    shared_with = models.ManyToManyField(
        "authorities.Country", verbose_name=_("also shared with"), related_name="+", blank=True
    )
    related_notifications = models.ManyToManyField(
        "notifications.Notification", verbose_name=_("related notifications"), related_name="+", blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set by the background task (incidents.flags.flag_open_notifications) once it has
    # flagged the open notifications this incident matches: the database says it is done.
    notifications_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            # The list's filters and order (incidents.api / views): newest first.
            models.Index(fields=["-occurred_on", "-id"], name="incident_recent"),
            models.Index(fields=["country", "-occurred_on"], name="incident_country"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.reference])

    @property
    def etag(self) -> str:
        return f'"i{self.pk}-{self.version}"'


class RouteStop(models.Model):
    """One country of the route, in order. The same country twice in a row is refused by
    the service (a route may come back to a country later: CN, NL, BE, NL)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="route_stops")
    position = models.PositiveSmallIntegerField()
    country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["incident", "position"], name="incident_route_position")]
        # Visibility: "incidents routed through my country".
        indexes = [models.Index(fields=["country", "incident"], name="incident_route_country")]

    def __str__(self):
        return f"{self.incident_id} {self.position}: {self.country_id}"


class IncidentSubstance(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="substances")
    position = models.PositiveSmallIntegerField()
    substance = models.ForeignKey(
        "authorities.Substance", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    chemical_name = models.CharField(_("chemical name"), max_length=200, blank=True)
    cas_number = models.CharField(_("CAS number"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=15, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=3, choices=Unit.choices, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "position"], name="incident_substance_position"),
            models.CheckConstraint(
                condition=Q(substance__isnull=False) | ~Q(chemical_name=""), name="incident_substance_named"
            ),
        ]

    def __str__(self):
        return f"{self.incident_id}: {self.substance_id or self.chemical_name}"


class IncidentParty(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="parties")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(_("role"), max_length=10, choices=PartyRole.choices)
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    country = models.ForeignKey(
        "authorities.Country", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # incidents.matching.normalise(name): what matching compares (and, on PostgreSQL, the
    # GIN trigram index incident_party_trgm, created by migration 0002, searches).
    normalised_name = models.CharField(max_length=200, editable=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["incident", "position"], name="incident_party_position")]

    def __str__(self):
        return f"{self.incident_id} {self.role}: {self.name}"


class IncidentEventKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    AMENDED = "amended", _("Amended")
    NOTIFICATIONS_FLAGGED = "notifications_flagged", _("Matching notifications flagged")


class IncidentEvent(models.Model):
    """The incident's append-only history: reported, each amendment with its changes
    (``data["changes"]``: field -> [old, new]), the background flagging. On PostgreSQL
    two triggers refuse every UPDATE and DELETE of a row, as for the notifications'
    timeline; an incident is never deleted (its rows are PROTECTed by nothing else
    because no code path deletes one)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=25, choices=IncidentEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_authority = models.ForeignKey(
        "authorities.Authority", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["incident", "at"], name="incident_event_timeline")]
        triggers = [
            pgtrigger.Protect(name="incident_event_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="incident_event_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d}"


class NotificationPartyName(models.Model):
    """The normalised party names of a sent notification (one row per named party),
    written by the ``incident_party`` evaluator when it is sent or amended: the table
    backtracking searches (a GIN trigram index on ``normalised_name`` on PostgreSQL,
    migration 0002). A table of this app rather than an expression index on the
    notifications table: the normalisation (accents, legal forms by cleanco, word order)
    is Python, computed once per filing, and the notifications' own table and its
    inserts stay as they are (docs/architecture.md)."""

    notification = models.ForeignKey("notifications.Notification", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=PartyRole.choices)
    name = models.CharField(max_length=200)
    normalised_name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "role"], name="notif_party_name_once")]

    def __str__(self):
        return f"{self.notification_id} {self.role}: {self.name}"
