"""The estimates' forms: shapes only; the rules are monitoring.services.check's, shown
beside the fields they name (web.forms.add_service_error)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from authorities.models import Country, Substance
from notifications.models import RiskKind

from .services import IMPORT_COLUMNS


class EstimateForm(forms.Form):
    country = forms.ModelChoiceField(
        label=_("Importing country"), queryset=Country.objects.order_by("name"), to_field_name="code"
    )
    substance = forms.ModelChoiceField(
        label=_("Substance"),
        queryset=Substance.objects.filter(alr_applicable=True).order_by("name"),
        to_field_name="code",
        help_text=_("Estimates are kept for the four ALR substances (CND resolution 49/3)."),
    )
    year = forms.IntegerField(label=_("Year"))
    quantity = forms.CharField(
        label=_("Quantity (kg)"),
        help_text=_("In kilograms of the substance itself; 0 means no legitimate requirement."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        help_text=_("The date INCB published it; today if left empty."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    optional_fields = ("valid_from",)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Table of estimates (CSV or XLSX)"),
        help_text=_("Columns: %(columns)s; one row per country and substance; the date as YYYY-MM-DD.")
        % {"columns": ", ".join(IMPORT_COLUMNS)},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Choose a .csv or .xlsx file."))
        return upload


class EstimateFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1990, max_value=2100)
    country = forms.ModelChoiceField(
        label=_("Country"),
        required=False,
        queryset=Country.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Every country with an estimate"),
    )


class RiskFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Flag"), required=False, choices=[("", _("Any flag")), *RiskKind.choices])
    country = forms.ModelChoiceField(
        label=_("Country (exporting or importing)"),
        required=False,
        queryset=Country.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Any country"),
    )
    substance = forms.ModelChoiceField(
        label=_("Substance"),
        required=False,
        queryset=Substance.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Any substance"),
    )
