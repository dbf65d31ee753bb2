"""Countries with their declared PEN policies, the substance catalogue, and the
competent national authorities (and the INCB secretariat) that use the portal."""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .working_days import ReplyDue, WorkingCalendar


class ReplyRegime(models.TextChoices):
    EXPLICIT_CONSENT = "explicit_consent", _("Explicit consent required")
    TACIT_CONSENT = "tacit_consent", _("Tacit consent after the reply period")


class PeriodKind(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    WORKING = "working", _("Working days (Monday to Friday)")


class Article12Tables(models.TextChoices):
    NONE = "", _("Not invoked")
    TABLE_I = "table_i", _("Table I")
    TABLE_I_AND_II = "table_i_and_ii", _("Tables I and II")


class Country(models.Model):
    """An ISO 3166-1 country or territory and its declared pre-export notification policy."""

    DEFAULT_REPLY_PERIOD_DAYS = 15

    code = models.CharField(_("alpha-2 code"), max_length=2, primary_key=True)
    alpha3 = models.CharField(_("alpha-3 code"), max_length=3, unique=True)
    numeric = models.CharField(_("numeric code"), max_length=3)
    name = models.CharField(_("name"), max_length=100)
    reply_regime = models.CharField(
        _("reply regime"), max_length=20, choices=ReplyRegime.choices, default=ReplyRegime.EXPLICIT_CONSENT
    )
    reply_period_days = models.PositiveSmallIntegerField(_("reply period (days)"), default=DEFAULT_REPLY_PERIOD_DAYS)
    reply_period_kind = models.CharField(
        _("reply period counted in"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.CALENDAR
    )
    article_12_10a_tables = models.CharField(
        _("article 12(10)(a) invoked for"),
        max_length=20,
        choices=Article12Tables.choices,
        default=Article12Tables.NONE,
        blank=True,
    )
    policy_updated_at = models.DateTimeField(_("policy updated at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(condition=Q(reply_period_days__gte=1), name="country_reply_period_positive"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("authorities:country", args=[self.code])

    @property
    def article_12_10a_invoked(self) -> bool:
        return bool(self.article_12_10a_tables)

    def earliest_reply_due(self, submitted_on: date) -> date:
        """The earliest reply-due date the declared reply period allows for a
        notification submitted on ``submitted_on``."""
        return self.reply_due_from(submitted_on).due

    def reply_due_from(self, submitted_on: date, calendar: WorkingCalendar | None = None) -> ReplyDue:
        """That date and why: for a period in working days, the public holidays and the
        declared closures it skipped (authorities.working_days). ``calendar``: one already
        read (``working_calendars``), to compute many dates without a query each; without
        it, the country's closures after ``submitted_on`` are read (one query, and none for
        a calendar-day period, which no holiday or closure moves)."""
        if self.reply_period_kind == PeriodKind.CALENDAR:
            return WorkingCalendar(self.code).add_calendar_days(submitted_on, self.reply_period_days)
        if calendar is None:
            calendar = self.working_calendar(since=submitted_on)
        return calendar.add_working_days(submitted_on, self.reply_period_days)

    def working_calendar(self, since: date | None = None) -> WorkingCalendar:
        """The country's working days, with its closures after ``since`` (all of them
        without it): one query."""
        return working_calendars([self], since=since)[self.code]


def working_calendars(countries: Iterable[Country], since: date | None = None) -> dict[str, WorkingCalendar]:
    """The working calendar of each of ``countries`` (code -> calendar), with the closures
    declared for them after ``since`` (all of them without it), read in one query."""
    codes = [country.code for country in countries]
    closures = {code: {} for code in codes}
    if codes:
        rows = Closure.objects.filter(country_id__in=codes)
        if since is not None:
            rows = rows.filter(date__gt=since)
        for code, day, reason in rows.order_by().values_list("country_id", "date", "reason"):
            closures[code][day] = reason
    return {code: WorkingCalendar(code, closures[code]) for code in codes}


class Closure(models.Model):
    """A weekday on which a country's authorities do not work, declared on its country page
    by INCB staff or an administrator of one of its authorities: it is not a working day
    for reply periods counted in working days, like a public holiday. Withdrawn only before
    the day (authorities.services.withdraw_closure); a closure in the past is history."""

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("declared by"), on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(_("declared at"))

    class Meta:
        ordering = ["country", "date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.UniqueConstraint(fields=["country", "date"], name="closure_one_per_country_and_day"),
            models.CheckConstraint(condition=~Q(reason=""), name="closure_reason_given"),
        ]

    def __str__(self):
        return f"{self.country_id} {self.date.isoformat()}: {self.reason}"


class Schedule(models.TextChoices):
    TABLE_I = "table_i", _("Table I")
    TABLE_II = "table_ii", _("Table II")
    SPECIAL_SURVEILLANCE = "special_surveillance", _("Special surveillance list")


class Substance(models.Model):
    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    schedule = models.CharField(_("schedule"), max_length=25, choices=Schedule.choices)
    cas_number = models.CharField(_("CAS number"), max_length=20, blank=True)
    hs_code = models.CharField(_("HS code"), max_length=10, blank=True)
    alr_applicable = models.BooleanField(_("annual legitimate requirements apply"), default=False)
    added = models.CharField(_("added to the tables"), max_length=20, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # A retired entry of the special surveillance list stays (notifications and incidents
    # name it, and its history is kept) but is offered to no new filing.
    active = models.BooleanField(_("active"), default=True)
    recommended_actions = models.TextField(_("recommended actions"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("substance")
        verbose_name_plural = _("substances")

    def __str__(self):
        return self.name

    @property
    def on_surveillance_list(self) -> bool:
        return self.schedule == Schedule.SPECIAL_SURVEILLANCE


class SubstanceChangeAction(models.TextChoices):
    ADDED = "added", _("Added")
    CHANGED = "changed", _("Changed")
    RETIRED = "retired", _("Retired")
    REINSTATED = "reinstated", _("Reinstated")


class SubstanceChange(models.Model):
    """One change of an entry of the special surveillance list, by INCB: append only,
    written by authorities.surveillance in the transaction of the change. ``before`` and
    ``after`` hold the entry's maintained fields (empty ``before`` for an addition)."""

    substance = models.ForeignKey(
        Substance, verbose_name=_("substance"), on_delete=models.PROTECT, related_name="changes"
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=12, choices=SubstanceChangeAction.choices)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        ordering = ["substance", "at", "pk"]
        verbose_name = _("change of the surveillance list")
        verbose_name_plural = _("changes of the surveillance list")

    def __str__(self):
        return f"{self.substance_id} {self.action} {self.at.isoformat()}"


class AuthorityKind(models.TextChoices):
    NATIONAL = "national", _("Competent national authority")
    INCB = "incb", _("INCB secretariat")


class AuthorityQuerySet(models.QuerySet):
    def national(self):
        return self.filter(kind=AuthorityKind.NATIONAL)

    def search(self, term):
        term = (term or "").strip()
        if not term:
            return self
        return self.filter(
            Q(name__icontains=term)
            | Q(code__iexact=term)
            | Q(country__name__icontains=term)
            | Q(country__code__iexact=term)
        )


class Authority(models.Model):
    """A competent national authority, or the INCB secretariat (kind ``incb``, no country)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=AuthorityKind.choices, default=AuthorityKind.NATIONAL)
    country = models.ForeignKey(
        Country, verbose_name=_("country"), on_delete=models.PROTECT, null=True, blank=True, related_name="authorities"
    )
    address = models.TextField(_("address"), blank=True)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_focal_point = models.BooleanField(
        _("focal point for incoming notifications"),
        default=False,
        help_text=_("Exactly one authority per country receives incoming notifications."),
    )
    # The authority's group holds the object permissions of notifications shared with it
    # (django-guardian); it never holds a model-level permission.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="authority", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AuthorityQuerySet.as_manager()

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=AuthorityKind.INCB, country__isnull=True, is_focal_point=False))
                | Q(kind=AuthorityKind.NATIONAL, country__isnull=False),
                name="authority_kind_matches_country",
            ),
            # At most one focal point per country; the services keep it at exactly one.
            models.UniqueConstraint(
                fields=["country"], condition=Q(is_focal_point=True), name="authority_one_focal_point_per_country"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_incb(self) -> bool:
        return self.kind == AuthorityKind.INCB
