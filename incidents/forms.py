"""The incident form of the pages: shape only, flat fields named as the services' error
keys (``substances.0.cas_number``, ``parties.1.name``, ``route``), so that a service's
ValidationError lands beside the field it names (web.forms.add_service_error)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from authorities.models import Country, Substance

from .models import IncidentKind, PartyRole, Unit, Visibility
from .services import IncidentData, PartyData, SubstanceData

SUBSTANCE_ROWS = 3
PARTY_ROWS = 3


def _codes(text: str) -> list[str]:
    return [code.strip().upper() for code in text.replace(";", ",").split(",") if code.strip()]


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    modus_operandi = forms.CharField(
        label=_("Modus operandi"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    route = forms.CharField(
        label=_("Route"),
        required=False,
        help_text=_("Country codes in order, separated by commas, e.g. CN, NL, MX."),
    )
    related_notifications = forms.CharField(
        label=_("Related notifications"), required=False, help_text=_("References, separated by commas.")
    )
    visibility = forms.ChoiceField(
        label=_("Who sees it"), choices=Visibility.choices, initial=Visibility.CONCERNED, widget=forms.RadioSelect
    )
    shared_with = forms.CharField(
        label=_("Also share with"), required=False, help_text=_("Country codes, separated by commas.")
    )

    optional_fields = {"modus_operandi", "route", "related_notifications", "shared_with"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        substances = [("", _("A chemical outside the catalogue"))] + [
            (s.code, s.name) for s in Substance.objects.order_by("name")
        ]
        countries = [("", _("Not known"))] + [(c.code, c.name) for c in Country.objects.order_by("name")]
        for i in range(SUBSTANCE_ROWS):
            self.fields[f"substances.{i}.substance"] = forms.ChoiceField(
                label=_("Substance %(n)s") % {"n": i + 1}, choices=substances, required=False
            )
            self.fields[f"substances.{i}.chemical_name"] = forms.CharField(
                label=_("Chemical name"), required=False, max_length=200
            )
            self.fields[f"substances.{i}.cas_number"] = forms.CharField(
                label=_("CAS number"), required=False, max_length=20
            )
            self.fields[f"substances.{i}.quantity"] = forms.DecimalField(
                label=_("Quantity"), required=False, max_digits=15, decimal_places=3, min_value=0
            )
            self.fields[f"substances.{i}.unit"] = forms.ChoiceField(
                label=_("Unit"), choices=[("", "—"), *Unit.choices], required=False
            )
        for i in range(PARTY_ROWS):
            self.fields[f"parties.{i}.role"] = forms.ChoiceField(
                label=_("Role of party %(n)s") % {"n": i + 1}, choices=PartyRole.choices, required=False
            )
            self.fields[f"parties.{i}.name"] = forms.CharField(label=_("Name"), required=False, max_length=200)
            self.fields[f"parties.{i}.address"] = forms.CharField(label=_("Address"), required=False, max_length=2000)
            self.fields[f"parties.{i}.country"] = forms.ChoiceField(
                label=_("Country"), choices=countries, required=False
            )
        self.substance_rows = [
            [
                self[f"substances.{i}.{name}"]
                for name in ("substance", "chemical_name", "cas_number", "quantity", "unit")
            ]
            for i in range(SUBSTANCE_ROWS)
        ]
        self.party_rows = [
            [self[f"parties.{i}.{name}"] for name in ("role", "name", "address", "country")] for i in range(PARTY_ROWS)
        ]
        self._rows = {"substances": [], "parties": []}

    @classmethod
    def initial_from(cls, data: IncidentData) -> dict:
        initial = {
            "kind": data.kind,
            "occurred_on": data.occurred_on,
            "description": data.description,
            "modus_operandi": data.modus_operandi,
            "route": ", ".join(data.route),
            "related_notifications": ", ".join(data.related_notifications),
            "visibility": data.visibility,
            "shared_with": ", ".join(data.shared_with),
        }
        for i, s in enumerate(data.substances[:SUBSTANCE_ROWS]):
            initial |= {
                f"substances.{i}.substance": s.substance or "",
                f"substances.{i}.chemical_name": s.chemical_name,
                f"substances.{i}.cas_number": s.cas_number,
                f"substances.{i}.quantity": s.quantity,
                f"substances.{i}.unit": s.unit,
            }
        for i, p in enumerate(data.parties[:PARTY_ROWS]):
            initial |= {
                f"parties.{i}.role": p.role,
                f"parties.{i}.name": p.name,
                f"parties.{i}.address": p.address,
                f"parties.{i}.country": p.country or "",
            }
        return initial

    def to_data(self) -> IncidentData:
        """The filled rows (an empty row is skipped) as IncidentData; ``form_key`` maps a
        service's error key back to the row it came from."""
        d = self.cleaned_data
        substances, parties = [], []
        for i in range(SUBSTANCE_ROWS):
            row = {
                name: d.get(f"substances.{i}.{name}")
                for name in ("substance", "chemical_name", "cas_number", "quantity", "unit")
            }
            if any(value not in (None, "") for value in row.values()):
                self._rows["substances"].append(i)
                substances.append(
                    SubstanceData(
                        substance=row["substance"] or None,
                        chemical_name=row["chemical_name"] or "",
                        cas_number=row["cas_number"] or "",
                        quantity=row["quantity"],
                        unit=row["unit"] or "",
                    )
                )
        for i in range(PARTY_ROWS):
            row = {name: d.get(f"parties.{i}.{name}") or "" for name in ("name", "address", "country")}
            if any(row.values()):
                self._rows["parties"].append(i)
                parties.append(
                    PartyData(
                        role=d.get(f"parties.{i}.role") or PartyRole.OTHER,
                        name=row["name"],
                        address=row["address"],
                        country=row["country"] or None,
                    )
                )
        return IncidentData(
            kind=d["kind"],
            occurred_on=d["occurred_on"],
            description=d["description"],
            modus_operandi=d.get("modus_operandi", ""),
            substances=substances,
            parties=parties,
            route=_codes(d.get("route", "")),
            related_notifications=[ref.strip() for ref in d.get("related_notifications", "").split(",") if ref.strip()],
            visibility=d["visibility"],
            shared_with=_codes(d.get("shared_with", "")),
        )

    def form_key(self, key: str) -> str:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] in self._rows and parts[1].isdigit():
            rows = self._rows[parts[0]]
            index = int(parts[1])
            if index < len(rows):
                return f"{parts[0]}.{rows[index]}.{parts[2]}"
        return key
