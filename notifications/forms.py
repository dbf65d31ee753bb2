"""Forms of the notification pages. They check the shape of the input (a date is a date,
a quantity a number) and turn it into the services' data classes; every rule about a
notification (what is required, what is allowed) lives in notifications.services, whose
field-keyed ValidationError is shown beside the fields it names."""

import re
from dataclasses import replace
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from authorities.models import Authority, Country, PeriodKind, Schedule, Substance, working_calendars
from web.dates import for_people, validate_typed_date
from web.forms import error_anchors

from . import listing
from .access import Party
from .models import Form, Item, ModeOfTransport, NotificationKind, ResponseKind, Status, Unit
from .services import ItemData, NotificationData, PartyData

MAX_TRANSITS = 5
MAX_ITEMS = 50
PARTY_FIELDS = ("name", "address", "licence_number")
PARTY_TITLES = {
    "exporter": _("Exporter"),
    "importer": _("Importer"),
    "consignee": _("Ultimate consignee"),
    "broker": _("Broker"),
}


def overdue_filter(today: date) -> Q:
    """The rows ``Notification.is_overdue`` is true for: awaiting a reply after the due date
    (a request for information stops the clock, so it is never overdue)."""
    return Q(status=Status.AWAITING_REPLY, reply_due__lt=today)


def substance_label(substance: Substance) -> str:
    parts = [substance.name]
    if substance.cas_number:
        parts.append(f"CAS {substance.cas_number}")
    if substance.hs_code:
        parts.append(f"HS {substance.hs_code}")
    return " — ".join(parts)


def substance_choices():
    """The catalogue grouped by schedule; each label carries the CAS number and HS code so
    that the picker finds a substance by any of the three. An entry retired from the special
    surveillance list is not offered (the service refuses it too)."""
    by_schedule = {value: [] for value in Schedule.values}
    for substance in Substance.objects.filter(active=True).only("code", "name", "schedule", "cas_number", "hs_code"):
        by_schedule[substance.schedule].append((substance.code, substance_label(substance)))
    return [("", _("Choose a substance"))] + [
        (Schedule(value).label, choices) for value, choices in by_schedule.items() if choices
    ]


def country_choices(blank_label):
    return [("", blank_label)] + list(Country.objects.values_list("code", "name"))


PERIOD_KIND_WORDS = {PeriodKind.CALENDAR: _("calendar days"), PeriodKind.WORKING: _("working days")}


def reply_period_hint(country: Country, today: date, calendar=None) -> str:
    """The earliest reply-due date if sent today, and why: for working days, the public
    holidays and declared closures it skips (``calendar``: read already, for many countries
    in one query; see ``working_calendars``)."""
    due = country.reply_due_from(today, calendar=calendar)
    values = {
        "country": country.name,
        "days": country.reply_period_days,
        "kind": PERIOD_KIND_WORDS[country.reply_period_kind],
        "earliest": for_people(due.due),
        "reasons": due.reasons(country.name),
    }
    if not due.working:
        return (
            _(
                "%(country)s declares a reply period of %(days)d %(kind)s: sent today, the reply can be due "
                "%(earliest)s at the earliest."
            )
            % values
        )
    return (
        _(
            "%(country)s declares a reply period of %(days)d %(kind)s: sent today, the reply can be due "
            "%(earliest)s at the earliest (%(reasons)s)."
        )
        % values
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


# --- filing ------------------------------------------------------------------------------


class NotificationForm(forms.Form):
    """Everything of a notification except its items. Every field is optional here: the
    service says what is missing, in one pass with every other mistake."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    kind = forms.ChoiceField(
        label=_("Kind of notification"),
        choices=NotificationKind.choices,
        initial=NotificationKind.SCHEDULED,
        widget=forms.RadioSelect,
        required=False,
        help_text=_(
            "Scheduled: a Table I or II substance (article 12 of the 1988 Convention). Voluntary: a suspicious "
            "consignment of a chemical on no table — a special surveillance list substance, or one you name — "
            "with why you suspect it (CND resolution 60/5)."
        ),
    )
    suspicion = forms.CharField(
        label=_("Why is this consignment suspicious?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Voluntary notifications only: what made you notify it (the order, the buyer, the route)."),
    )
    importing_country = forms.ChoiceField(label=_("Importing country"), required=False)

    exporter_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    exporter_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    exporter_licence_number = forms.CharField(label=_("Licence or registration number"), max_length=100, required=False)
    importer_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    importer_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    importer_licence_number = forms.CharField(label=_("Licence or registration number"), max_length=100, required=False)
    consignee_name = forms.CharField(
        label=_("Name"), max_length=200, required=False, help_text=_("Only when different from the importer.")
    )
    consignee_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    consignee_licence_number = forms.CharField(
        label=_("Licence or registration number"), max_length=100, required=False
    )
    broker_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    broker_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    broker_licence_number = forms.CharField(label=_("Licence or registration number"), max_length=100, required=False)

    point_of_exit = forms.CharField(label=_("Point of exit"), max_length=200, required=False)
    point_of_entry = forms.CharField(label=_("Expected point of entry"), max_length=200, required=False)
    mode_of_transport = forms.ChoiceField(
        label=_("Mode of transport"),
        choices=[("", _("Choose"))] + ModeOfTransport.choices,
        required=False,
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=200, required=False, help_text=_("When known."))
    expected_dispatch = forms.DateField(
        label=_("Expected date of dispatch"), widget=DateInput, required=False, validators=[validate_typed_date]
    )
    import_authorization_number = forms.CharField(
        label=_("Import authorisation number"),
        max_length=100,
        required=False,
        help_text=_("When the importing country issues one."),
    )
    end_use = forms.CharField(label=_("Declared end use"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    national_reference = forms.CharField(
        label=_("Your reference"),
        max_length=100,
        required=False,
        help_text=_("Your authority's own reference, for example the export authorisation number."),
    )
    reply_due = forms.DateField(
        label=_("Reply due"), widget=DateInput, required=False, validators=[validate_typed_date]
    )

    # Shown as "(optional)"; the service requires the others to send (a draft may lack any).
    optional_fields = {
        "exporter_licence_number",
        "importer_licence_number",
        "consignee_name",
        "consignee_address",
        "consignee_licence_number",
        "broker_name",
        "broker_address",
        "broker_licence_number",
        "carrier",
        "import_authorization_number",
        "national_reference",
        "reply_due",
    }
    # Optional for a voluntary notification only (the page's script marks them so).
    voluntary_optional_fields = {"point_of_exit", "point_of_entry", "end_use"}

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Countries with a focal point can receive notifications; the others are listed
        # apart so the exporter sees at once where the portal cannot deliver.
        self.reachable = {
            country.code: country
            for country in Country.objects.filter(authorities__is_focal_point=True).order_by("name")
        }
        countries = country_choices(_("Choose a country"))
        self.fields["importing_country"].choices = [
            countries[0],
            (_("Countries on the portal"), [choice for choice in countries[1:] if choice[0] in self.reachable]),
            (
                _("Countries not on the portal (notify them by other means)"),
                [choice for choice in countries[1:] if choice[0] not in self.reachable],
            ),
        ]
        transit_choices = [("", _("None"))] + countries[1:]
        for position in range(1, MAX_TRANSITS + 1):
            self.fields[f"transit_{position}"] = forms.ChoiceField(
                label=_("Transit country %(position)d") % {"position": position},
                choices=transit_choices,
                required=False,
            )
        # The route right after the destination, in the error summary as on the page.
        self.order_fields(
            ["version", "kind", "suspicion", "importing_country", *(f"transit_{n}" for n in range(1, MAX_TRANSITS + 1))]
        )
        # "Name" alone is ambiguous in the error summary: say whose.
        self.summary_labels = {
            f"{party}_{name}": f"{title} — {self.fields[f'{party}_{name}'].label}"
            for party, title in PARTY_TITLES.items()
            for name in PARTY_FIELDS
        }
        self.reply_periods = self._reply_periods()
        self.fields["reply_due"].help_text = self.reply_periods.get(
            self["importing_country"].value() or "", self.reply_periods[""]
        )

    def party_groups(self):
        return [(key, title, self.party_fields(key)) for key, title in PARTY_TITLES.items()]

    def transit_fields(self):
        return [self[f"transit_{position}"] for position in range(1, MAX_TRANSITS + 1)]

    def party_fields(self, party):
        return [self[f"{party}_{name}"] for name in PARTY_FIELDS]

    def _reply_periods(self) -> dict[str, str]:
        """The reply-due hint for each importing country (key "" before one is chosen), so
        that the page's script can change it when the importing country changes."""
        # The closures of every country counted in working days, in one query.
        calendars = working_calendars(
            [country for country in self.reachable.values() if country.reply_period_kind == PeriodKind.WORKING],
            since=self.today,
        )
        hints = {
            code: reply_period_hint(country, self.today, calendars.get(code))
            for code, country in self.reachable.items()
        }
        hints[""] = _("Choose the importing country to see the earliest date its declared reply period allows.")
        lead = _("Leave it empty to use the importing country's declared reply period.")
        return {code: f"{lead} {hint}" for code, hint in hints.items()}


class ItemForm(forms.Form):
    substance = forms.ChoiceField(
        label=_("Substance"),
        required=False,
        help_text=_("Listed by schedule, with CAS number and HS code."),
    )
    chemical_name = forms.CharField(
        label=_("Or a chemical on no list"),
        max_length=200,
        required=False,
        help_text=_("Voluntary notifications only: its name, when it is not in the catalogue."),
    )
    cas_number = forms.CharField(
        label=_("Its CAS number"),
        max_length=12,
        required=False,
        help_text=_("NNNNNNN-NN-N, for a chemical on no list; the check digit is verified."),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=15,
        decimal_places=3,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.KG, required=False)
    packages = forms.CharField(
        label=_("Packages"), max_length=200, required=False, help_text=_("Number and kind, e.g. 10 drums.")
    )
    form = forms.ChoiceField(label=_("Form"), choices=Form.choices, initial=Form.SUBSTANCE, required=False)
    trade_name = forms.CharField(
        label=_("Trade name"), max_length=200, required=False, help_text=_("For a preparation or mixture.")
    )
    concentration_percent = forms.DecimalField(
        label=_("Concentration %"),
        max_digits=6,
        decimal_places=3,
        required=False,
        help_text=_("For a preparation or mixture."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    optional_fields = {"trade_name", "concentration_percent", "packages", "chemical_name", "cas_number"}

    def __init__(self, *args, substances=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["substance"].choices = substances
        self.fields["substance"].widget.attrs["class"] = "substance-picker"


class BaseItemFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.substances = substance_choices()

    def get_form_kwargs(self, index):
        # A row left empty is left out, whichever row it is (the service wants at least one).
        return {**super().get_form_kwargs(index), "empty_permitted": True, "substances": self.substances}

    def filled_forms(self):
        return [form for form in self.forms if form.has_changed()]


ItemFormSet = forms.formset_factory(
    ItemForm, formset=BaseItemFormSet, extra=0, max_num=MAX_ITEMS, validate_max=True, absolute_max=MAX_ITEMS
)

# The form fields that are columns of the same name on Notification.
CONTENT_FIELDS = [name for name in NotificationForm.base_fields if name not in ("version", "importing_country")]


class FilingForm:
    """The notification form and its item rows, handled as one page."""

    prefix = "items"

    def __init__(self, data=None, *, today: date, initial=None, items_initial=None):
        self.main = NotificationForm(data, initial=initial, today=today)
        self.items = ItemFormSet(data, initial=items_initial, prefix=self.prefix)
        self.items_errors: list[str] = []

    @classmethod
    def blank(cls, *, today, kind=None):
        initial = {"kind": kind} if kind in NotificationKind.values else None
        return cls(today=today, initial=initial, items_initial=[{}])

    @classmethod
    def for_draft(cls, notification, *, today):
        initial = {name: getattr(notification, name) for name in CONTENT_FIELDS}
        initial["importing_country"] = notification.importing_country_id
        initial["version"] = notification.version
        for position, transit in enumerate(notification.transits.all(), start=1):
            initial[f"transit_{position}"] = transit.country_id
        items_initial = [
            {
                "substance": item.substance.code if item.substance else "",  # a draft's, not chosen yet
                "chemical_name": item.chemical_name,
                "cas_number": item.cas_number,
                "form": item.form,
                "trade_name": item.trade_name,
                "concentration_percent": item.concentration_percent,
                "quantity": item.quantity,
                "unit": item.unit,
                "packages": item.packages,
            }
            for item in notification.items.select_related("substance")
        ]
        return cls(today=today, initial=initial, items_initial=items_initial or [{}])

    def with_another_row(self):
        """The same input, unvalidated, with one more empty item row ("Add another item"
        without JavaScript): what was typed is carried over as the new form's initial."""
        initial = {name: self.main[name].value() for name in self.main.fields}
        rows = [{name: form[name].value() for name in form.fields} for form in self.items.forms]
        if len(rows) < MAX_ITEMS:
            rows.append({})
        return FilingForm(today=self.main.today, initial=initial, items_initial=rows)

    def is_valid(self) -> bool:
        # Both, always: every shape error is shown at once.
        main_valid = self.main.is_valid()
        items_valid = self.items.is_valid()
        return main_valid and items_valid

    def to_data(self) -> NotificationData:
        """The services' input; a field whose shape was wrong counts as empty (its error
        is already shown), so the service can still judge all the others."""
        values = self.main.cleaned_data

        def party(key):
            return PartyData(**{name: values.get(f"{key}_{name}", "") for name in PARTY_FIELDS})

        return NotificationData(
            importing_country=values.get("importing_country", ""),
            exporter=party("exporter"),
            importer=party("importer"),
            consignee=party("consignee"),
            broker=party("broker"),
            items=[
                ItemData(
                    substance=form.cleaned_data.get("substance", ""),
                    quantity=form.cleaned_data.get("quantity"),
                    unit=form.cleaned_data.get("unit", ""),
                    form=form.cleaned_data.get("form") or Form.SUBSTANCE,
                    trade_name=form.cleaned_data.get("trade_name", ""),
                    concentration_percent=form.cleaned_data.get("concentration_percent"),
                    packages=form.cleaned_data.get("packages", ""),
                    chemical_name=form.cleaned_data.get("chemical_name", ""),
                    cas_number=form.cleaned_data.get("cas_number", ""),
                )
                for form in self.items.filled_forms()
            ],
            transit_countries=[
                code for position in range(1, MAX_TRANSITS + 1) if (code := values.get(f"transit_{position}"))
            ],
            point_of_exit=values.get("point_of_exit", ""),
            point_of_entry=values.get("point_of_entry", ""),
            mode_of_transport=values.get("mode_of_transport", ""),
            carrier=values.get("carrier", ""),
            expected_dispatch=values.get("expected_dispatch"),
            import_authorization_number=values.get("import_authorization_number", ""),
            end_use=values.get("end_use", ""),
            national_reference=values.get("national_reference", ""),
            reply_due=values.get("reply_due"),
            kind=values.get("kind") or NotificationKind.SCHEDULED,
            suspicion=values.get("suspicion", ""),
        )

    def add_service_error(self, error: ValidationError) -> None:
        """Map the service's keys ("items.0.quantity", "exporter.name", "transit_countries")
        onto the fields; a field that already shows a shape error keeps only that one."""
        if not hasattr(error, "error_dict"):
            self.main.add_error(None, error)
            return
        # A page opened on a stored draft (show_sending_problems) has one row per item, in
        # the order of the service's keys; a posted page, the rows that were filled in.
        filled = self.items.filled_forms() if self.items.is_bound else self.items.forms
        for key, messages in error.message_dict.items():
            if key == "items":
                self.items_errors.extend(messages)
                continue
            if key.startswith("items."):
                _items, index, name = key.split(".", 2)
                form = filled[int(index)]
            else:
                form = self.main
                name = "transit_1" if key == "transit_countries" else key.replace(".", "_")
            field = name if name in form.fields else None
            if field is not None and form.has_error(field):
                continue
            form.add_error(field, messages)

    def show_sending_problems(self, problems: dict[str, list[str]]) -> None:
        """A stored draft's page, opened to complete it: what sending still needs
        (services.sending_problems), beside each field and in the error summary."""
        for form in (self.main, *self.items.forms):
            if not form.is_bound:
                form.cleaned_data = {}  # what add_error updates; an unbound form has none
        self.add_service_error(ValidationError(problems))

    def mark_stale(self, current_version: int):
        """Someone changed the draft since this page was opened. Keep what was typed, say so,
        and take the current version, so that saving again replaces the other change
        knowingly rather than silently."""
        self.main.data = self.main.data.copy()
        self.main.data["version"] = current_version
        self.main.add_error(
            None,
            _(
                "Someone changed this draft since you opened it, so your changes are not saved yet. "
                "They are below: check the draft as it is now, then save again to replace it."
            ),
        )

    def error_anchors(self) -> list[tuple[str, str]]:
        anchors = error_anchors(self.main, "filing-form")
        for message in [*self.items.non_form_errors(), *self.items_errors]:
            anchors.append(("items", message))
        for number, form in enumerate(self.items.forms, start=1):
            for anchor, message in error_anchors(form, f"item-{number}"):
                anchors.append((anchor, _("Item %(number)d: %(message)s") % {"number": number, "message": message}))
        return anchors


# --- actions on a notification ---------------------------------------------------------


class VersionedForm(forms.Form):
    """Carries the version of the notification the page showed, so that an action on a
    page that has since gone stale is refused instead of applied to something unseen."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def expected_version(self):
        return self.cleaned_data.get("version") if self.is_bound and self.is_valid() else None


DECISION_LABELS = {
    ResponseKind.NO_OBJECTION: _("No objection: the export may proceed"),
    ResponseKind.OBJECTION: _("Objection: the export should not proceed"),
    ResponseKind.INFORMATION_REQUESTED: _("Request information from the exporting authority (stops the reply clock)"),
}
FINAL_REPLIES = (ResponseKind.NO_OBJECTION, ResponseKind.OBJECTION)


class ReplyForm(VersionedForm):
    decision = forms.ChoiceField(label=_("Your reply"), widget=forms.RadioSelect, required=False)
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=5000,
        help_text=_(
            "Required for an objection (give the reasons) and for a request for information (write the question)."
        ),
    )

    def __init__(self, *args, decisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [(kind, DECISION_LABELS[kind]) for kind in decisions]

    def clean(self):
        # services.respond decides and checks again; asked here too so that the
        # confirmation page never shows a reply the service would refuse.
        values = super().clean()
        if not values.get("decision"):
            self.add_error("decision", _("Choose your reply."))
        elif values["decision"] != ResponseKind.NO_OBJECTION and not values.get("comment", "").strip():
            self.add_error(
                "comment",
                _("Give the reasons for the objection.")
                if values["decision"] == ResponseKind.OBJECTION
                else _("Write the question the exporting authority must answer."),
            )
        return values

    @property
    def is_final(self) -> bool:
        return self.cleaned_data.get("decision") in FINAL_REPLIES

    def decision_label(self):
        return DECISION_LABELS.get(self.cleaned_data.get("decision"), "")


class AnswerForm(VersionedForm):
    comment = forms.CharField(
        label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=5000
    )


class WithdrawForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
        help_text=_("The importing authority sees it, for example “The buyer cancelled the order.”"),
    )


class ShareForm(forms.Form):
    authority = forms.ChoiceField(
        label=_("Authority"),
        help_text=_("It may read this notification, its replies and attachments, but do nothing with it."),
    )

    def __init__(self, *args, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        authorities = Authority.objects.national().select_related("country").exclude(pk__in=exclude)
        self.fields["authority"].choices = [("", _("Choose an authority"))] + [
            (authority.code, f"{authority.country.name} — {authority.name}")
            for authority in authorities.order_by("country__name", "name")
        ]

    def chosen_authority(self) -> Authority:
        return Authority.objects.get(code=self.cleaned_data["authority"])


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF, PNG or JPEG file, for example the import permit."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )


# --- the list ----------------------------------------------------------------------------

ROLE_CHOICES = [
    ("", _("All we are party to")),
    (Party.EXPORTING, _("Outgoing: we export")),
    (Party.IMPORTING, _("Incoming: we import")),
    (Party.TRANSIT, _("Through our country (transit)")),
]


class ListFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Reference or party name"),
        required=False,
        max_length=100,
        help_text=_("Part of a reference such as DE-2026-000042, or of an exporter's or importer's name."),
    )
    role = forms.ChoiceField(label=_("Direction"), choices=ROLE_CHOICES, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Any kind")),
            (NotificationKind.SCHEDULED, _("Scheduled (Table I or II)")),
            (NotificationKind.VOLUNTARY, _("Voluntary (non-scheduled)")),
        ],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    importing_country = forms.ChoiceField(label=_("Importing country"), required=False)
    exporting_country = forms.ChoiceField(label=_("Exporting country"), required=False)
    substance = forms.ChoiceField(label=_("Substance"), required=False)
    sent_from = forms.DateField(
        label=_("Sent on or after"), widget=DateInput, required=False, validators=[validate_typed_date]
    )
    sent_to = forms.DateField(
        label=_("Sent on or before"), widget=DateInput, required=False, validators=[validate_typed_date]
    )
    # Also set by the column headings' links; a value outside the list is an error on the
    # page, never a silent fallback to another order.
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=listing.sort_choices,
        error_messages={"invalid_choice": _("Choose an order from the list.")},
    )

    def __init__(self, *args, incb: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if incb:
            del self.fields["role"]  # INCB is party to nothing; it sees everything sent.
        statuses = Status.choices if not incb else [choice for choice in Status.choices if choice[0] != Status.DRAFT]
        self.fields["status"].choices = [("", _("Any status"))] + statuses
        countries = country_choices(_("Any country"))
        self.fields["importing_country"].choices = countries
        self.fields["exporting_country"].choices = countries
        self.fields["substance"].choices = [("", _("Any substance"))] + [
            (code, name) for code, name in Substance.objects.values_list("code", "name")
        ]

    def chosen_role(self):
        """The direction to list (None: every notification the user may see)."""
        return (self.cleaned_data.get("role") or None) if self.is_valid() else None

    def filter(self, queryset, *, today):
        if not self.is_valid():
            return queryset.none()
        values = self.cleaned_data
        if term := values["q"].strip():
            queryset = queryset.filter(
                Q(reference__icontains=term)
                | Q(national_reference__icontains=term)
                | Q(exporter_name__icontains=term)
                | Q(importer_name__icontains=term)
            )
        if values["status"]:
            queryset = queryset.filter(status=values["status"])
        if values.get("kind"):
            queryset = queryset.filter(kind=values["kind"])
        if values["overdue"]:
            queryset = queryset.filter(overdue_filter(today))
        if values["importing_country"]:
            queryset = queryset.filter(importing_country_id=values["importing_country"])
        if values["exporting_country"]:
            queryset = queryset.filter(exporting_country_id=values["exporting_country"])
        if values["substance"]:
            # A filter on the item rows, not a join, so a notification with two matching
            # items is listed once.
            queryset = queryset.filter(pk__in=_with_substance(values["substance"]))
        if values["sent_from"]:
            queryset = queryset.filter(submitted_at__date__gte=values["sent_from"])
        if values["sent_to"]:
            queryset = queryset.filter(submitted_at__date__lte=values["sent_to"])
        return queryset

    def clean(self):
        values = super().clean()
        start, end = values.get("sent_from"), values.get("sent_to")
        if start and end and start > end:
            # Said, not silently answered with an empty list.
            self.add_error("sent_to", _("Enter a date on or after the “sent on or after” date, or leave it empty."))
        return values

    def chosen_sort(self) -> str:
        """The sort of the list (one of listing.SORTS, or "" for the newest first)."""
        return (self.cleaned_data.get("sort") or "") if self.is_valid() else ""

    @property
    def is_filtered(self) -> bool:
        """Whether any filter is set (the order is not a filter)."""
        return self.is_valid() and any(value for name, value in self.cleaned_data.items() if name != "sort")


def _with_substance(code):
    return Item.objects.filter(substance__code=code).values("notification_id")


# --- finding a notification by its reference (the header's search box) --------------------

# Dashes a reference copied from a letter or a word processor may arrive with.
DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})
# A whole reference, however spaced: country, year, number (services._next_reference).
REFERENCE_SHAPE = re.compile(r"^\s*([A-Z]{2})[\s-]*(\d{4})[\s-]*(\d{1,6})\s*$")


class ReferenceSearchForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_(
            "The portal's reference, such as DE-2026-000042, or part of it; or your authority's own reference."
        ),
    )

    def term(self) -> str:
        """What was typed, as it was ("" when nothing or too much was)."""
        return self.cleaned_data["reference"].strip() if self.is_valid() else ""

    def fragment(self) -> str:
        """The term as the portal writes references: upper case, plain dashes, no spaces
        (" de-2026-000042 " is DE-2026-000042); matched anywhere in a reference."""
        return "".join(self.term().translate(DASHES).upper().split())

    def whole_reference(self) -> str:
        """The reference the term names when it names one whole (services._next_reference):
        "DE 2026 000042" and "de-2026-42" are DE-2026-000042. A number typed with leading
        zeros but short of six digits ("DE-2026-0004") is the start of one, not a whole."""
        whole = REFERENCE_SHAPE.match(self.term().translate(DASHES).upper())
        if whole is None:
            return self.fragment()
        country, year, number = whole.groups()
        if len(number) < 6 and number.startswith("0"):
            return self.fragment()
        return f"{country}-{year}-{int(number):06d}"


class AmendmentForm(VersionedForm):
    """What an amendment may change (services.AMENDABLE), prefilled with what was sent.
    The service decides what changed and whether it may; this form only reads the page."""

    point_of_exit = forms.CharField(label=_("Point of exit"), max_length=200, required=False)
    point_of_entry = forms.CharField(label=_("Expected point of entry"), max_length=200, required=False)
    mode_of_transport = forms.ChoiceField(
        label=_("Mode of transport"), choices=[("", _("Choose"))] + ModeOfTransport.choices, required=False
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=200, required=False)
    expected_dispatch = forms.DateField(
        label=_("Expected date of dispatch"), widget=DateInput, required=False, validators=[validate_typed_date]
    )
    import_authorization_number = forms.CharField(
        label=_("Import authorisation number"), max_length=100, required=False
    )
    national_reference = forms.CharField(label=_("Your reference"), max_length=100, required=False)

    def __init__(self, *args, stored: NotificationData, **kwargs):
        initial = {
            "point_of_exit": stored.point_of_exit,
            "point_of_entry": stored.point_of_entry,
            "mode_of_transport": stored.mode_of_transport,
            "carrier": stored.carrier,
            "expected_dispatch": stored.expected_dispatch,
            "import_authorization_number": stored.import_authorization_number,
            "national_reference": stored.national_reference,
        }
        for position, code in enumerate(stored.transit_countries, start=1):
            initial[f"transit_{position}"] = code
        for index, item in enumerate(stored.items):
            initial[f"items_{index}_quantity"] = item.quantity
            initial[f"items_{index}_packages"] = item.packages
        super().__init__(*args, initial={**initial, **kwargs.pop("initial", {})}, **kwargs)
        self.stored = stored
        transit_choices = [("", _("None"))] + country_choices(_("Choose a country"))[1:]
        for position in range(1, MAX_TRANSITS + 1):
            self.fields[f"transit_{position}"] = forms.ChoiceField(
                label=_("Transit country %(position)d") % {"position": position},
                choices=transit_choices,
                required=False,
            )
        self.item_rows = []
        for index, item in enumerate(stored.items):
            quantity = f"items_{index}_quantity"
            packages = f"items_{index}_packages"
            self.fields[quantity] = forms.DecimalField(
                label=_("Quantity (%(unit)s)") % {"unit": item.unit},
                max_digits=15,
                decimal_places=3,
                min_value=0,
                required=True,
                help_text=_("At most %(quantity)s, as notified.") % {"quantity": item.quantity},
            )
            self.fields[packages] = forms.CharField(label=_("Packages"), max_length=200, required=False)
            self.item_rows.append((index + 1, item, self[quantity], self[packages]))
        self.summary_labels = {
            name: _("Item %(position)d — %(field)s") % {"position": int(name.split("_")[1]) + 1, "field": field.label}
            for name, field in self.fields.items()
            if name.startswith("items_")
        }

    def transit_fields(self):
        return [self[f"transit_{position}"] for position in range(1, MAX_TRANSITS + 1)]

    def to_data(self) -> NotificationData:
        """What was stored, with this page's values where it has them."""
        values = self.cleaned_data
        items = [
            replace(
                item,
                quantity=values.get(f"items_{index}_quantity"),
                packages=values.get(f"items_{index}_packages") or "",
            )
            for index, item in enumerate(self.stored.items)
        ]
        return replace(
            self.stored,
            point_of_exit=values.get("point_of_exit") or "",
            point_of_entry=values.get("point_of_entry") or "",
            mode_of_transport=values.get("mode_of_transport") or "",
            carrier=values.get("carrier") or "",
            expected_dispatch=values.get("expected_dispatch"),
            import_authorization_number=values.get("import_authorization_number") or "",
            national_reference=values.get("national_reference") or "",
            transit_countries=[
                code for position in range(1, MAX_TRANSITS + 1) if (code := values.get(f"transit_{position}"))
            ],
            items=items,
        )

    def add_service_error(self, error: ValidationError) -> None:
        """The service's keys ("items.0.quantity", "transit_countries") as this form's fields."""
        for key, messages in error.message_dict.items():
            name = "transit_1" if key == "transit_countries" else key.replace(".", "_")
            self.add_error(name if name in self.fields else None, messages)


class ShipmentForm(VersionedForm):
    """The dispatch (``stage="dispatch"``) or the arrival (``stage="arrival"``): the date and
    a quantity per item. The service judges them (dates, ceilings) with the others."""

    on = forms.DateField(widget=DateInput, required=False, validators=[validate_typed_date])
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("For example what explains a difference in quantities."),
    )
    optional_fields = {"comment"}

    def __init__(self, *args, stage: str, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage = stage
        self.fields["on"].label = _("Dispatched on") if stage == "dispatch" else _("Arrived on")
        if stage == "dispatch":
            del self.fields["comment"]
        self.item_rows = []
        for item in items:
            name = f"items_{item.position - 1}_quantity"
            self.fields[name] = forms.DecimalField(
                label=_("Item %(position)d — quantity %(verb)s (%(unit)s)")
                % {
                    "position": item.position,
                    "verb": _("shipped") if stage == "dispatch" else _("received"),
                    "unit": item.unit,
                },
                max_digits=15,
                decimal_places=3,
                required=False,
                help_text=(
                    _("Notified: %(quantity)s. 0 if this item was not shipped.") % {"quantity": f"{item.quantity:.3f}"}
                    if stage == "dispatch"
                    else _("Dispatched: %(quantity)s.") % {"quantity": f"{item.shipped_quantity or 0:.3f}"}
                ),
                initial=item.quantity if stage == "dispatch" else item.shipped_quantity,
            )
            self.item_rows.append((item, self[name]))

    def quantities(self):
        from .services import ShippedQuantity

        return [
            ShippedQuantity(item.position, self.cleaned_data.get(f"items_{item.position - 1}_quantity"))
            for item, _field in self.item_rows
        ]

    def add_service_error(self, error: ValidationError) -> None:
        """The service's keys (``dispatched_on``, ``items.0.quantity``) as this form's fields."""
        for key, messages in error.message_dict.items():
            name = "on" if key in {"dispatched_on", "arrived_on"} else key.replace(".", "_")
            self.add_error(name if name in self.fields else None, messages)


class SuspendForm(VersionedForm):
    reason = forms.CharField(
        label=_("Why the consignment is suspended"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text=_("Every party and INCB read it, for example “The consignee's address is a residential flat.”"),
    )


class LiftSuspensionForm(VersionedForm):
    comment = forms.CharField(
        label=_("What the verification found"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text=_("Every party and INCB read it, for example “The consignee's licence was confirmed by DEA.”"),
    )
