"""Forms of the authorities pages: they check the shape of the input; the services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from web.dates import validate_typed_date
from web.forms import add_service_error, error_anchors

from . import surveillance
from .models import Article12Tables, PeriodKind, ReplyRegime
from .services import CLOSURE_REASON_MAX_LENGTH, POLICY_FIELDS

# No real declared period comes near a year; the bound catches a mistyped number.
MAX_REPLY_PERIOD_DAYS = 365


class CountryPolicyForm(forms.Form):
    """The policy a country declared, as INCB staff record it."""

    reply_regime = forms.ChoiceField(
        label=_("Reply regime"),
        choices=ReplyRegime.choices,
        widget=forms.RadioSelect,
        help_text=_("What happens when the country does not reply in time."),
    )
    reply_period_days = forms.IntegerField(
        label=_("Reply period (days)"),
        min_value=1,
        max_value=MAX_REPLY_PERIOD_DAYS,
        help_text=format_lazy(
            _("A whole number of days from submission, between 1 and {max}."), max=MAX_REPLY_PERIOD_DAYS
        ),
    )
    reply_period_kind = forms.ChoiceField(
        label=_("The reply period counts"),
        choices=PeriodKind.choices,
        widget=forms.RadioSelect,
    )
    article_12_10a_tables = forms.ChoiceField(
        label=_("Article 12(10)(a) of the 1988 Convention"),
        choices=Article12Tables.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("The tables for which the country asked to be notified before every export to it."),
    )

    @classmethod
    def for_country(cls, country, data=None):
        return cls(data=data, initial={field: getattr(country, field) for field in POLICY_FIELDS})

    def add_service_error(self, error: ValidationError):
        add_service_error(self, error)

    def error_anchors(self):
        return error_anchors(self, "policy-form")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ClosureForm(forms.Form):
    """A day the country's authorities do not work. The service decides whether it may be
    declared (after today, a weekday, not a public holiday, not declared already)."""

    date = forms.DateField(
        label=_("Date"),
        widget=DateInput,
        validators=[validate_typed_date],
        help_text=_("A weekday after today that is not already a public holiday."),
        error_messages={"required": _("Enter the date the authorities are closed.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=CLOSURE_REASON_MAX_LENGTH,
        help_text=_("Shown to exporting authorities with the due dates it moves, for example “Office move”."),
        error_messages={"required": _("Say why the authorities are closed that day, for example “Office move”.")},
    )

    def add_service_error(self, error: ValidationError):
        add_service_error(self, error)

    def error_anchors(self):
        return error_anchors(self, "closure-form")


class SurveillanceEntryForm(forms.Form):
    """An entry of the special surveillance list, as INCB adds or changes it. The service
    decides (a name not in the catalogue, a valid CAS number no other substance has, an HS
    code of digits and dots)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=surveillance.NAME_MAX_LENGTH,
        help_text=_("The chemical's name as INCB's list gives it, for example “Benzyl cyanide”."),
        error_messages={"required": _("Give the chemical's name, as INCB's list has it.")},
    )
    cas_number = forms.CharField(
        label=_("CAS number"),
        required=False,
        max_length=20,
        help_text=_("With its hyphens, for example 140-29-4. The last digit is checked."),
    )
    hs_code = forms.CharField(
        label=_("HS code"),
        required=False,
        max_length=surveillance.HS_CODE_MAX_LENGTH,
        help_text=_("Harmonized System code, digits and dots, for example 2926.90."),
    )
    recommended_actions = forms.CharField(
        label=_("Recommended actions"),
        required=False,
        max_length=surveillance.RECOMMENDED_ACTIONS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The voluntary actions INCB recommends to governments for this chemical."),
    )
    optional_fields = ("cas_number", "hs_code", "recommended_actions")

    def add_service_error(self, error: ValidationError):
        add_service_error(self, error)

    def error_anchors(self):
        return error_anchors(self, "id_name")


class SurveillanceReasonForm(forms.Form):
    """Why an entry is retired (required) or reinstated."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=surveillance.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the entry's history and shown with it, for example “Scheduled in Table I”."),
        error_messages={"required": _("Say why, for example “Scheduled in Table I”.")},
    )

    def add_service_error(self, error: ValidationError):
        add_service_error(self, error)

    def error_anchors(self):
        return error_anchors(self, "id_reason")
