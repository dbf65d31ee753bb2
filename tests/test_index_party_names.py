"""``manage.py index_party_names``: the backfill of the party names of notifications loaded
without the services (seed_scale) writes what filing writes, once, and skips what is done."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from incidents.models import NotificationPartyName, PartyRole
from notifications.services import PartyData
from tests.factories import file

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def names():
    return sorted(NotificationPartyName.objects.values_list("notification_id", "role", "name", "normalised_name"))


def run(**options) -> str:
    out = StringIO()
    call_command("index_party_names", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_the_backfill_writes_what_filing_writes_once(cast):
    first = file(cast, now=NOW)
    second = file(
        cast,
        now=NOW,
        importer=PartyData("Kumasi Chemicals Limited", "4 Lake Road, Kumasi", "GH-IMP-9"),
        consignee=PartyData("Tema Warehousing Co. Ltd", "Harbour, Tema", ""),
        broker=PartyData("Société Générale de Courtage S.A.", "Paris", ""),
    )
    draft = file(cast, now=NOW, draft=True)
    filed = names()
    # Filing indexed the sent ones (exporter, importer; the second also consignee, broker).
    assert {pk for pk, *_ in filed} == {first.pk, second.pk}
    assert len(filed) == 6
    assert (second.pk, PartyRole.BROKER, "Société Générale de Courtage S.A.") in [row[:3] for row in filed]

    NotificationPartyName.objects.all().delete()
    output = run(batch=1)  # one notification per batch: the batches' boundaries are crossed
    assert names() == filed
    assert not NotificationPartyName.objects.filter(notification=draft).exists()
    assert "2/2 notifications, 6 names" in output

    # Again: nothing to do, no duplicate.
    again = run()
    assert names() == filed
    assert NotificationPartyName.objects.count() == 6
    assert "0 sent notifications without party names" in again


@pytest.mark.django_db
def test_the_backfill_skips_notifications_already_indexed(cast):
    first = file(cast, now=NOW)
    second = file(cast, now=NOW, importer=PartyData("Kumasi Chemicals Limited", "4 Lake Road, Kumasi", "GH-IMP-9"))
    filed = names()
    kept = set(NotificationPartyName.objects.filter(notification=first).values_list("pk", flat=True))
    NotificationPartyName.objects.filter(notification=second).delete()

    output = run()
    assert names() == filed
    # The first notification's rows are the ones filing wrote, untouched.
    assert set(NotificationPartyName.objects.filter(notification=first).values_list("pk", flat=True)) == kept
    assert "1 sent notifications without party names" in output
