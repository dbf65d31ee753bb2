"""The number of queries of a list, detail or dashboard request does not grow with the page
size, the number of notifications or the number of items (issue 7): no N+1, whatever the
data. Counts are compared, not fixed, so that adding a query to every request stays free."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from notifications import services
from notifications.services import ItemData
from tests.api_helpers import bearer, broker_fixture, token_for  # noqa: F401 - a fixture
from tests.factories import file, notification_data

NOW = datetime.now(UTC) - timedelta(days=1)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("broker")]


def require(path):
    """Skip only when the endpoint does not exist yet (its URL does not resolve)."""
    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        pytest.skip(f"{path} does not resolve yet")


def items(count):
    substances = ["acetone", "toluene", "ephedrine", "sulphuric-acid", "potassium-permanganate"]
    return [
        ItemData(substance=substances[i % len(substances)], quantity=Decimal("10.000"), unit="kg", packages="1 drum")
        for i in range(count)
    ]


def file_many(cast, count, item_count, *, transits=("NL",)):
    """``count`` sent notifications DE -> GH, some answered, with ``item_count`` items."""
    made = []
    for i in range(count):
        n = file(cast, now=NOW, items=items(item_count), transit_countries=list(transits))
        if i % 3 == 1:
            services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW)
        elif i % 3 == 2:
            services.acknowledge(actor=cast.importer_officer, notification=n, now=NOW)
        made.append(n)
    return made


def count_queries(client, path, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content[:500]
    return len(captured.captured_queries)


@pytest.mark.parametrize("party", ["importer", "exporter"])
def test_the_api_list_does_not_grow_with_the_page_size_or_the_items(client, cast, party):
    require("/api/v1/notifications/")
    token = bearer(token_for(client, getattr(cast, party)))
    file_many(cast, 3, 1)
    path = "/api/v1/notifications/?page_size={}"
    count_queries(client, path.format(3), **token)  # warm: first-request lookups
    small = count_queries(client, path.format(3), **token)
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    large = count_queries(client, path.format(30), **token)
    assert large == small
    # Filtered as the licensing systems do (the benchmark's list), too.
    filtered = "/api/v1/notifications/?role=importing&status=awaiting_reply&page_size={}"
    assert count_queries(client, filtered.format(5), **token) == count_queries(client, filtered.format(30), **token)


def test_the_api_detail_does_not_grow_with_items_events_or_replies(client, cast):
    require("/api/v1/notifications/X-2026-000001/")
    token = bearer(token_for(client, cast.importer))
    # Both with at least one row of every kind (an empty relation skips its nested prefetch).
    plain = file(cast, now=NOW, items=items(1), transit_countries=["NL"])
    services.respond(actor=cast.importer_officer, notification=plain, decision="no_objection", now=NOW)
    busy = file(cast, now=NOW, items=items(5), transit_countries=["NL", "BE", "FR"])
    services.respond(
        actor=cast.importer_officer, notification=busy, decision="information_requested", comment="?", now=NOW
    )
    services.provide_information(actor=cast.exporter_officer, notification=busy, comment="!", now=NOW)
    services.respond(actor=cast.importer_officer, notification=busy, decision="objection", comment="no", now=NOW)
    count_queries(client, f"/api/v1/notifications/{plain.reference}/", **token)
    few = count_queries(client, f"/api/v1/notifications/{plain.reference}/", **token)
    many = count_queries(client, f"/api/v1/notifications/{busy.reference}/", **token)
    assert many == few


@pytest.mark.parametrize("officer", ["importer_officer", "exporter_officer"])
def test_the_dashboard_does_not_grow_with_the_notifications_or_their_items(client, cast, officer):
    require("/notifications/")
    client.force_login(getattr(cast, officer))
    file_many(cast, 3, 1)
    services.file_notification(actor=cast.exporter_officer, data=notification_data(now=NOW), draft=True, now=NOW)
    count_queries(client, "/notifications/")
    small = count_queries(client, "/notifications/")
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    large = count_queries(client, "/notifications/")
    assert large == small


def test_the_incb_dashboard_does_not_grow_with_the_notifications(client, cast):
    require("/notifications/")
    client.force_login(cast.incb_reviewer)
    file_many(cast, 3, 1)
    count_queries(client, "/notifications/")
    small = count_queries(client, "/notifications/")
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    assert count_queries(client, "/notifications/") == small
