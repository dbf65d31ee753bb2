"""The risk module's flags (issue 13): each on a history built so that it must fire, and
on one where it must not, with the edges (exactly at the estimate, too little history)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from monitoring import services as estimate_services
from monitoring.estimates import kg_of, rows
from monitoring.flags import MIN_COUNTRY_HISTORY, MIN_HISTORY
from monitoring.services import EstimateData
from notifications import risk, services
from notifications.models import RiskKind, RiskSignal
from notifications.services import ItemData
from tests.conftest import Cast, build_cast
from tests.factories import file

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def cast(db) -> Cast:
    """The cast without its standing estimates: these tests build their own."""
    return build_cast(estimates=False)


def ephedrine(kg, **extra):
    return [ItemData(substance="ephedrine", quantity=Decimal(kg), unit="kg", packages="drums", **extra)]


def estimate(cast, kg, *, year=2026, substance="ephedrine", country="GH", now=NOW):
    return estimate_services.record_estimate(
        actor=cast.incb_reviewer,
        data=EstimateData(country=country, substance=substance, year=year, quantity=Decimal(kg)),
        now=now,
    )


def open_flag(notification, kind):
    return RiskSignal.objects.filter(notification=notification, kind=kind, resolved_at__isnull=True).first()


# --- what counts against an estimate -------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit", "form", "concentration", "code", "kg"),
    [
        ("250", "kg", "substance", None, "ephedrine", "250.000"),
        ("500", "g", "substance", None, "ephedrine", "0.500"),
        ("100", "kg", "preparation", "10", "ephedrine", "10.000"),
        ("100", "kg", "preparation", None, "ephedrine", "100.000"),  # no concentration: counted whole
        ("10", "l", "preparation", "12.5", "pseudoephedrine", "1.250"),  # w/v
        ("1000", "l", "substance", None, "p-2-p", "1006.000"),  # density 1.006 kg/l
        ("500", "ml", "substance", None, "mdp2p", "0.600"),
    ],
)
def test_what_an_item_counts_against_an_estimate(quantity, unit, form, concentration, code, kg):
    assert kg_of(Decimal(quantity), unit, form, concentration and Decimal(concentration), code) == Decimal(kg)


def test_notified_counts_sent_notifications_not_withdrawn_nor_objected(cast):
    estimate(cast, 1000)
    a = file(cast, now=NOW, items=ephedrine("300"))
    file(
        cast,
        now=NOW,
        items=ephedrine("100", form="preparation", trade_name="Syrup base", concentration_percent=Decimal("50")),
    )
    withdrawn = file(cast, now=NOW, items=ephedrine("400"))
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="cancelled", now=NOW)
    objected = file(cast, now=NOW, items=ephedrine("400"))
    services.respond(actor=cast.importer_officer, notification=objected, decision="objection", comment="no", now=NOW)
    file(cast, now=NOW, draft=True, items=ephedrine("900"))
    file(cast, now=NOW, items=ephedrine("70"), importing_country="FR")  # another country
    last_year = file(cast, now=NOW.replace(year=2025), items=ephedrine("999"))
    assert a.pk and last_year.pk
    [row] = rows(["GH"], 2026)
    assert (row.quantity, row.notified, row.remaining) == (Decimal("1000"), Decimal("350"), Decimal("650"))


def test_an_estimate_stays_valid_until_replaced(cast):
    estimate(cast, 800, year=2025, now=NOW.replace(year=2025))
    [row] = rows(["GH"], 2026)
    assert row.quantity == Decimal("800") and row.estimate.year == 2025
    estimate(cast, 1200, year=2026)
    [row] = rows(["GH"], 2026)
    assert row.quantity == Decimal("1200")
    replaced = estimate(cast, 1500, year=2026)
    [row] = rows(["GH"], 2026)
    assert row.estimate == replaced
    history = list(estimate_services.Estimate.objects.filter(country="GH", year=2026).order_by("recorded_at"))
    assert [e.quantity for e in history] == [Decimal("1200"), Decimal("1500")]
    assert history[0].replaced_at is not None and history[1].replaced_at is None


# --- alr_exceeded ----------------------------------------------------------------------


def test_alr_exceeded_fires_when_the_year_total_passes_the_estimate(cast):
    estimate(cast, 500)
    first = file(cast, now=NOW, items=ephedrine("300"))
    assert open_flag(first, RiskKind.ALR_EXCEEDED) is None
    second = file(cast, now=NOW + timedelta(hours=1), items=ephedrine("250"))
    flag = open_flag(second, RiskKind.ALR_EXCEEDED)
    assert flag is not None
    assert flag.data["exceeded"][0]["over"] == "50.000"
    assert "takes the 2026 total notified to Ghana to 550 kg: 50 kg above its estimate of 500 kg" in flag.detail
    assert "(300 kg were notified before it)" in flag.detail


def test_exactly_at_the_estimate_is_not_above_it(cast):
    estimate(cast, 500)
    file(cast, now=NOW, items=ephedrine("300"))
    at_the_estimate = file(cast, now=NOW + timedelta(hours=1), items=ephedrine("200"))
    assert open_flag(at_the_estimate, RiskKind.ALR_EXCEEDED) is None


def test_no_estimate_for_an_alr_substance_says_so_differently(cast):
    n = file(cast, now=NOW, items=ephedrine("10"))
    flag = open_flag(n, RiskKind.ALR_EXCEEDED)
    assert flag.data["missing"] == [{"substance": "ephedrine", "name": "Ephedrine"}]
    assert "Ghana has no estimate of annual legitimate requirements for Ephedrine in 2026" in flag.detail
    not_alr = file(cast, now=NOW, items=[ItemData(substance="acetic-anhydride", quantity=Decimal("10"), unit="kg")])
    assert open_flag(not_alr, RiskKind.ALR_EXCEEDED) is None


def test_a_new_estimate_recomputes_the_open_notifications_flags_once(cast):
    n = file(cast, now=NOW, items=ephedrine("300"))
    assert open_flag(n, RiskKind.ALR_EXCEEDED).data["missing"]
    new = estimate(cast, 1000)
    assert estimate_services.recompute(new.pk, now=NOW) == 0
    assert open_flag(n, RiskKind.ALR_EXCEEDED) is None
    assert estimate_services.recompute(new.pk, now=NOW) is None  # done once
    lower = estimate(cast, 100)
    assert estimate_services.recompute(lower.pk, now=NOW) == 1
    assert open_flag(n, RiskKind.ALR_EXCEEDED).data["exceeded"][0]["estimate"] == "100.000"
    assert RiskSignal.objects.filter(notification=n, kind=RiskKind.ALR_EXCEEDED).count() == 1  # never duplicated


def test_an_amendment_to_a_lower_quantity_resolves_the_flag(cast):
    estimate(cast, 200)
    n = file(cast, now=NOW, items=ephedrine("250"))
    assert open_flag(n, RiskKind.ALR_EXCEEDED)
    data = services.stored_data(n)
    from dataclasses import replace

    lowered = replace(data, items=[replace(data.items[0], quantity=Decimal("150"))])
    services.amend(actor=cast.exporter_officer, notification=n, data=lowered, now=NOW, expected_version=n.version)
    assert open_flag(n, RiskKind.ALR_EXCEEDED) is None
    assert RiskSignal.objects.get(notification=n, kind=RiskKind.ALR_EXCEEDED).resolved_at == NOW


# --- unusual_quantity ----------------------------------------------------------------


def history(cast, quantities, *, start=NOW - timedelta(days=700)):
    for i, kg in enumerate(quantities):
        file(cast, now=start + timedelta(days=30 * i), items=ephedrine(str(kg)), importer=None or _importer(i))


def _importer(i):
    from notifications.services import PartyData

    return PartyData(f"Importer {chr(65 + i % 26)} Company", "Accra", f"GH-{i}")


def test_unusual_quantity_fires_far_above_the_history(cast):
    history(cast, [100, 110, 90, 120, 100, 95, 105, 130, 100, 98, 101, 99])
    n = file(cast, now=NOW, items=ephedrine("400"))
    flag = open_flag(n, RiskKind.UNUSUAL_QUANTITY)
    assert flag is not None
    row = flag.data["items"][0]
    assert row["count"] == 12 and row["median"] == "100.000"
    assert "above the 95th percentile" in flag.detail and "three times the median (100 kg)" in flag.detail


def test_the_databases_statistics_are_pythons_on_every_kind_of_item(cast, on_postgres):
    """On PostgreSQL the history's median and 95th percentile are one aggregate query; they
    must be what the Python rules (estimates.kg_of, statistics) give for the same items:
    grams, a preparation by its concentration, litres of a liquid by its density."""
    import statistics as py

    from authorities.models import Substance
    from monitoring.flags import history_of, history_stats

    items = [
        ItemData(substance="p-2-p", quantity=Decimal(q), unit=u, packages="drums", form=f, trade_name=t, **c)
        for q, u, f, t, c in [
            ("100", "kg", "substance", "", {}),
            ("250000", "g", "substance", "", {}),
            ("80", "l", "substance", "", {}),
            ("500", "kg", "mixture", "Blend", {"concentration_percent": Decimal("12.5")}),
            ("40", "l", "preparation", "Solution", {"concentration_percent": Decimal("30")}),
            ("3", "kg", "substance", "", {}),
        ]
    ]
    for index, item in enumerate(items):
        file(cast, now=NOW - timedelta(days=30 + index), items=[item])
    p2p = Substance.objects.get(code="p-2-p")
    python = history_of("GH", p2p, until=NOW, exclude=None)
    count, median, p95 = history_stats("GH", p2p, until=NOW, exclude=None)
    assert count == len(python) == 6
    assert median == Decimal(str(py.median(python))).quantize(Decimal("0.001")) == Decimal("71.490")
    assert p95 == Decimal(str(py.quantiles(python, n=100, method="inclusive")[94])).quantize(Decimal("0.001"))


def test_unusual_quantity_needs_both_the_percentile_and_three_medians(cast):
    history(cast, [100, 110, 90, 120, 100, 95, 105, 130, 100, 98, 101, 99])
    above_p95_only = file(cast, now=NOW, items=ephedrine("200"))  # > p95 (~126) but < 3 x 100
    assert open_flag(above_p95_only, RiskKind.UNUSUAL_QUANTITY) is None


def test_too_little_history_says_nothing(cast):
    history(cast, [100] * (MIN_HISTORY - 1))
    n = file(cast, now=NOW, items=ephedrine("10000"))
    assert open_flag(n, RiskKind.UNUSUAL_QUANTITY) is None


def test_history_older_than_three_years_does_not_count(cast):
    history(cast, [100] * MIN_HISTORY, start=NOW - timedelta(days=4 * 365))
    n = file(cast, now=NOW, items=ephedrine("10000"))
    assert open_flag(n, RiskKind.UNUSUAL_QUANTITY) is None


# --- new_importer --------------------------------------------------------------------


def test_new_importer_fires_for_a_first_notification_to_an_importer(cast):
    history(cast, [100] * MIN_COUNTRY_HISTORY)
    from notifications.services import PartyData

    n = file(cast, now=NOW, importer=PartyData("Kumasi Trading Company", "Kumasi", "GH-99"))
    flag = open_flag(n, RiskKind.NEW_IMPORTER)
    assert flag is not None and flag.data["importer"] == "Kumasi Trading Company"
    assert "First notification to “Kumasi Trading Company” for Ghana in three years" in flag.detail


def test_a_known_importer_however_spelled_is_not_new(cast):
    history(cast, [100] * MIN_COUNTRY_HISTORY)
    from notifications.services import PartyData

    known = file(cast, now=NOW, importer=PartyData("IMPORTER A COMPANY LIMITED", "Accra", "GH-0"))
    assert open_flag(known, RiskKind.NEW_IMPORTER) is None


def test_new_importer_needs_a_history_of_the_country(cast):
    history(cast, [100] * (MIN_COUNTRY_HISTORY - 1))
    from notifications.services import PartyData

    n = file(cast, now=NOW, importer=PartyData("Kumasi Trading Company", "Kumasi", "GH-99"))
    assert open_flag(n, RiskKind.NEW_IMPORTER) is None


# --- prior_objection -----------------------------------------------------------------


def test_prior_objection_names_the_notification_and_when(cast):
    earlier = file(cast, now=NOW - timedelta(days=200))
    services.respond(
        actor=cast.importer_officer,
        notification=earlier,
        decision="objection",
        comment="unknown end use",
        now=NOW - timedelta(days=190),
    )
    from notifications.services import PartyData

    n = file(cast, now=NOW, importer=PartyData("ACCRA-PHARMA LIMITED", "Accra", "GH-IMP-7"))
    flag = open_flag(n, RiskKind.PRIOR_OBJECTION)
    assert flag is not None
    assert flag.data["objections"] == [
        {
            "reference": earlier.reference,
            "on": (NOW - timedelta(days=190)).date().isoformat(),
            "name": "ACCRA-PHARMA LIMITED",
        }
    ]
    assert f"{earlier.reference} (objection of 10 May 2026)" in flag.detail


def test_no_prior_objection_for_another_company_or_a_no_objection(cast):
    earlier = file(cast, now=NOW - timedelta(days=200))
    services.respond(
        actor=cast.importer_officer, notification=earlier, decision="no_objection", now=NOW - timedelta(days=190)
    )
    from notifications.services import PartyData

    again = file(cast, now=NOW)
    assert open_flag(again, RiskKind.PRIOR_OBJECTION) is None
    objected = file(
        cast, now=NOW - timedelta(days=100), importer=PartyData("Accra Pharmaceuticals Holdings", "Accra", "X")
    )
    services.respond(
        actor=cast.importer_officer,
        notification=objected,
        decision="objection",
        comment="no",
        now=NOW - timedelta(days=99),
    )
    near_miss = file(cast, now=NOW)
    assert open_flag(near_miss, RiskKind.PRIOR_OBJECTION) is None


# --- the module ------------------------------------------------------------------------


def test_preview_writes_nothing_and_says_what_sending_would_raise(cast):
    estimate(cast, 100)
    draft = file(cast, now=NOW, draft=True, items=ephedrine("250"))
    kinds = [finding.kind for finding in risk.preview(draft, now=NOW)]
    assert kinds == [RiskKind.ALR_EXCEEDED]
    assert not RiskSignal.objects.filter(notification=draft).exists()


def test_a_flag_reads_in_the_readers_language_from_its_data(cast, settings):
    n = file(cast, now=NOW, items=ephedrine("10"))
    flag = open_flag(n, RiskKind.ALR_EXCEEDED)
    with translation.override("en"):
        assert risk.detail_of(flag) == flag.detail
    flag.data = {**flag.data, "country_name": "Ghana (renamed)"}
    assert "Ghana (renamed) has no estimate" in risk.detail_of(flag)


def test_every_contract_kind_has_one_source_and_registered_assessors_are_the_risk_modules(cast):
    assert set(risk.registered()) >= {
        RiskKind.ALR_EXCEEDED,
        RiskKind.UNUSUAL_QUANTITY,
        RiskKind.NEW_IMPORTER,
        RiskKind.PRIOR_OBJECTION,
        RiskKind.INCIDENT_PARTY,
    }
