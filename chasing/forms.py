"""The follow-up queue's filter: the importing country chosen by its name.

A free-text box of two letters turned "Netherlands" into "NE" (Niger) and the page said
nothing was overdue; a select of names cannot be mistyped, and a value that is not a
country (an old bookmark, a hand-edited address) is said, never filtered on."""

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from authorities.models import Country


def name_order(name: str) -> str:
    """A name without its accents, case folded: the key of an alphabetical list."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


class QueueFilterForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Importing country"),
        required=False,
        error_messages={"invalid_choice": _("There is no country “%(value)s”: choose one from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every country by name (a country with nothing overdue is a valid answer: "none"),
        # in the order a person looks for it: "Åland Islands" among the A's. Sorted here,
        # not by the database, whose collation differs between SQLite and PostgreSQL.
        countries = sorted(Country.objects.values_list("code", "name"), key=lambda row: name_order(row[1]))
        self.fields["country"].choices = [("", _("Every country")), *countries]
        # A code with another case or spaces ("nl " from a hand-edited address) is that
        # country, and shown selected; anything else stays as given, for the error to quote.
        given = self.data.get("country", "") if self.is_bound else ""
        code = given.strip().upper()
        if code != given and code in {known for known, _name in countries}:
            self.data = self.data.copy()
            self.data["country"] = code

    def chosen_country(self) -> Country | None:
        """The country to show, or None for every country (also when the value is wrong:
        the page shows the error beside the filter, and the whole queue)."""
        if not self.is_valid() or not self.cleaned_data["country"]:
            return None
        return Country.objects.get(code=self.cleaned_data["country"])
