"""Estimates of annual legitimate requirements (ALRs, CND resolution 49/3): per importing
country, ALR substance and year, a quantity in kg, valid until replaced. Replacing one
never deletes it: the old row is closed (``replaced_at``) and stays as history; the
current row of a country, substance and year is the one not replaced (one at most, a
partial unique constraint)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EstimateSource(models.TextChoices):
    PAGE = "page", _("Entered on the estimates page")
    API = "api", _("Sent through the API")
    IMPORT = "import", _("Imported from a table")


class Estimate(models.Model):
    country = models.ForeignKey("authorities.Country", on_delete=models.PROTECT, related_name="+")
    substance = models.ForeignKey("authorities.Substance", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    quantity = models.DecimalField(_("quantity (kg)"), max_digits=15, decimal_places=3)
    valid_from = models.DateField(_("valid from"))
    source = models.CharField(max_length=10, choices=EstimateSource.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    replaced_at = models.DateTimeField(null=True, blank=True)
    # The open notifications' alr_exceeded flags were recomputed for this estimate (the
    # database is the truth for that background work: monitoring.tasks' relay finds the
    # rows where it is still null).
    flags_recomputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["country_id", "substance__name", "-year", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "substance", "year"],
                condition=Q(replaced_at__isnull=True),
                name="estimate_current_once",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="estimate_quantity_not_negative"),
        ]
        indexes = [
            models.Index(fields=["country", "substance", "year"], name="estimate_lookup"),
            models.Index(fields=["flags_recomputed_at"], name="estimate_recompute_due"),
        ]

    def __str__(self):
        return f"{self.country_id} {self.substance_id} {self.year}: {self.quantity} kg"
