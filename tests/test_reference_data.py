import csv

import pytest
from django.core.management import call_command

from authorities.models import Country, Substance
from authorities.services import SUBSTANCES_CSV, load_reference_data

pytestmark = pytest.mark.django_db


def test_load_reference_data_twice_changes_nothing_the_second_time(capsys):
    call_command("load_reference_data")
    first = capsys.readouterr().out
    assert "countries: 249 created" in first
    before = {c.code: (c.name, c.alpha3) for c in Country.objects.all()}

    report = load_reference_data()
    assert not report.changed
    call_command("load_reference_data")
    assert "already up to date" in capsys.readouterr().out
    assert {c.code: (c.name, c.alpha3) for c in Country.objects.all()} == before
    assert Country.objects.count() == 249


def test_every_substance_row_is_loaded_with_its_schedule():
    load_reference_data()
    with SUBSTANCES_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert Substance.objects.count() == len(rows) == 56
    for row in rows:
        substance = Substance.objects.get(code=row["code"])
        assert substance.schedule == row["schedule"]
        assert substance.cas_number == row["cas_number"].strip()
        assert substance.alr_applicable == (row["alr_applicable"] == "yes")
    assert Substance.objects.filter(schedule="table_i").count() == 43
    assert Substance.objects.filter(schedule="table_ii").count() == 8
    assert Substance.objects.filter(schedule="special_surveillance").count() == 5


def test_a_policy_edited_by_incb_survives_a_reload():
    load_reference_data()
    Country.objects.filter(code="GH").update(reply_regime="tacit_consent", reply_period_days=10)
    assert not load_reference_data().changed
    ghana = Country.objects.get(code="GH")
    assert (ghana.reply_regime, ghana.reply_period_days) == ("tacit_consent", 10)


def test_the_default_policy_is_explicit_consent_in_15_calendar_days():
    load_reference_data()
    country = Country.objects.get(code="GH")
    assert (country.reply_regime, country.reply_period_days, country.reply_period_kind) == (
        "explicit_consent",
        15,
        "calendar",
    )
