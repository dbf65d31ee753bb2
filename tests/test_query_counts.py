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


def _ask(cast, count):
    """``count`` sent notifications on which the importer asked for information."""
    for _ in range(count):
        n = file(cast, now=NOW, items=items(2), transit_countries=["NL"])
        services.respond(
            actor=cast.importer_officer, notification=n, decision="information_requested", comment="?", now=NOW
        )


@pytest.mark.parametrize("officer", ["importer_officer", "exporter_officer", "transit_officer"])
def test_the_dashboards_transit_and_asked_sections_do_not_grow_with_the_rows(client, cast, officer):
    """Issue 18, defect 4: the transit section and "we asked for information", with rows in
    every section both times (an empty section skips its item query)."""
    require("/notifications/")
    client.force_login(getattr(cast, officer))
    file_many(cast, 3, 1)
    _ask(cast, 1)
    count_queries(client, "/notifications/")
    small = count_queries(client, "/notifications/")
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    _ask(cast, 12)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/notifications/")
    assert len(captured.captured_queries) == small
    sections = ("incoming", "incoming_asked", "outgoing", "transit")
    shown = {name: len(response.context[name]["rows"]) for name in sections}
    expected = {
        "importer_officer": {"incoming": 10, "incoming_asked": 10, "outgoing": 0, "transit": 0},
        "exporter_officer": {"incoming": 0, "incoming_asked": 0, "outgoing": 10, "transit": 0},
        "transit_officer": {"incoming": 0, "incoming_asked": 0, "outgoing": 0, "transit": 10},
    }[officer]
    assert shown == expected


def test_the_incb_dashboard_does_not_grow_with_the_notifications(client, cast):
    require("/notifications/")
    client.force_login(cast.incb_reviewer)
    file_many(cast, 3, 1)
    count_queries(client, "/notifications/")
    small = count_queries(client, "/notifications/")
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    assert count_queries(client, "/notifications/") == small


@pytest.mark.parametrize("reader", ["importer_officer", "transit_officer", "incb_reviewer"])
def test_the_list_with_its_new_markers_does_not_grow_with_the_rows(client, cast, reader):
    """Issue 18, defect 9: the "new" marker is part of the list's own query (EXISTS), not a
    query per row; sorted by a column, with some rows opened and some not."""
    require("/notifications/list/")
    user = getattr(cast, reader)
    client.force_login(user)
    made = file_many(cast, 3, 1)
    services.record_opened(actor=user, notification=made[0], now=NOW)
    path = "/notifications/list/?sort=-reply_due"
    count_queries(client, path)
    small = count_queries(client, path)
    more = file_many(cast, 22, 5, transits=("NL", "BE", "FR"))
    for n in more[::2]:
        services.record_opened(actor=user, notification=n, now=NOW)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert len(response.context["page"].object_list) == 25
    assert len(captured.captured_queries) == small
    assert response.content.decode().count('class="tag tag-new"') == 25 - 1 - 11  # the unopened ones


def test_the_csv_export_does_not_grow_with_the_rows(client, cast):
    require("/notifications/list/export.csv")
    client.force_login(cast.importer_officer)
    file_many(cast, 3, 1)

    def exported():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/notifications/list/export.csv?sort=reference")
            lines = b"".join(response.streaming_content).decode().count("\r\n")
        return lines, len(captured.captured_queries)

    exported()
    lines, small = exported()
    assert lines == 1 + 3
    file_many(cast, 27, 5, transits=("NL", "BE", "FR"))
    lines, large = exported()
    assert lines == 1 + 30 and large == small
