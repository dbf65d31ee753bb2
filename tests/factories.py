"""Builders for notifications in a known state, through the services (never by hand)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from notifications import services
from notifications.services import ItemData, NotificationData, PartyData

# Each filing its own national reference, as a licensing system gives each shipment its
# own: two open notifications with one reference are refused as a double filing (issue
# 19). Restarted for every test (tests/conftest.py), so a test's first is EXP-2026-0042.
_national_numbers = itertools.count(42)


def restart_national_references():
    global _national_numbers
    _national_numbers = itertools.count(42)


def next_national_reference() -> str:
    return f"EXP-2026-{next(_national_numbers):04d}"


def notification_data(**overrides) -> NotificationData:
    now = overrides.pop("now", None)
    values = dict(
        importing_country="GH",
        exporter=PartyData("Chemie Export GmbH", "Industriestr. 1, 20095 Hamburg", "DE-EXP-1"),
        importer=PartyData("Accra Pharma Ltd", "12 Ring Road, Accra", "GH-IMP-7"),
        items=[ItemData(substance="ephedrine", quantity=Decimal("250.000"), unit="kg", packages="10 drums")],
        point_of_exit="Hamburg",
        point_of_entry="Tema",
        mode_of_transport="sea",
        expected_dispatch=(now.date() if now else _today()) + timedelta(days=20),
        end_use="Manufacture of cough syrup",
        transit_countries=["NL"],
        national_reference=overrides.pop("national_reference", None) or next_national_reference(),
    )
    values.update(overrides)
    return NotificationData(**values)


def _today():
    from django.utils import timezone

    return timezone.now().date()


def file(cast, *, now, draft=False, **overrides):
    actor = overrides.pop("actor", cast.exporter_officer)
    return services.file_notification(actor=actor, data=notification_data(now=now, **overrides), draft=draft, now=now)
