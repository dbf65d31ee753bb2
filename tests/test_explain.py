"""Query plans (issue 7): the list path and the chase sweep's candidate query can use
indexes; no sequential scan of the notifications or of the permission tables.

A few thousand rows are seeded with seed_scale and ANALYZEd, so the planner sees realistic
statistics (a few heavy exporters, a long tail, most notifications answered). At this size
a sequential scan of a small table can honestly be the cheapest plan, so the plans are taken
with sequential scans priced out (``enable_seqscan = off``): what is asserted is that the
query's *shape* lets PostgreSQL use an index. A shape that cannot (a condition on an
expression, a function of the column) still shows "Seq Scan" then."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import User
from chasing import sweep
from notifications import access
from notifications.models import Notification, Status

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FORBIDDEN = re.compile(
    r"Seq Scan on (notifications_notification|notifications_notificationgroupobjectpermission|"
    r"notifications_notificationuserobjectpermission|notifications_transitcountry|auth_permission)\b"
)

# A subquery evaluated row by row: OR-ed with the other ways of being a party it cannot be
# an index condition, so PostgreSQL walks a whole index or table to fill a page (what
# notifications.access._IdIn avoids).
ROW_BY_ROW = re.compile(r"Filter: .*SubPlan")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded():
    call_command(
        "seed_scale",
        notifications=4000,
        countries=40,
        years=3,
        batch=2000,
        now=NOW.isoformat(),
        no_progress=True,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def officer_of(country) -> User:
    return User.objects.get(authority__country_id=country, authority__is_focal_point=True, role="officer")


def busiest_and_quietest_importers() -> list[str]:
    counts = {}
    for code in Notification.objects.values_list("importing_country_id", flat=True):
        counts[code] = counts.get(code, 0) + 1
    ranked = sorted(counts, key=counts.get)
    return [ranked[-1], ranked[0]]


def test_the_list_path_uses_indexes(seeded):
    for country in busiest_and_quietest_importers():
        user = officer_of(country)
        for role in (None, access.Party.IMPORTING):
            queryset = (
                access.visible_notifications(user, role=role)
                .filter(status=Status.AWAITING_REPLY)
                .order_by("-updated_at", "-id")[:50]
            )
            text = plan(queryset)
            assert not FORBIDDEN.search(text), f"{country} role={role}:\n{text}"
            assert not ROW_BY_ROW.search(text), f"{country} role={role}:\n{text}"
            # The list's rows come from an index on the notifications table.
            assert re.search(r"Index (Only )?Scan|Bitmap Index Scan", text), text


def test_a_transit_or_shared_party_s_list_uses_indexes(seeded):
    hub = "NL"  # a transit hub of the seeded world; shares are seeded too
    user = officer_of(hub)
    for role in (None, access.Party.TRANSIT, access.Party.SHARED):
        text = plan(access.visible_notifications(user, role=role).order_by("-updated_at", "-id")[:50])
        assert not FORBIDDEN.search(text), f"role={role}:\n{text}"
        assert not ROW_BY_ROW.search(text), f"role={role}:\n{text}"


def test_the_sweep_s_candidate_query_uses_its_partial_index(seeded):
    from django.db.models import Q

    at = NOW + timedelta(days=10)
    query = Notification.objects.filter(next_chase_at__lte=at).order_by("next_chase_at", "pk")
    text = plan(query.values_list("next_chase_at", "pk")[:500])
    assert not FORBIDDEN.search(text), text
    assert "notif_chase_due" in text, text
    # The next batch (after the last row of the previous one) too.
    after = query.filter(Q(next_chase_at__gt=NOW) | Q(next_chase_at=NOW, pk__gt=10))
    text = plan(after.values_list("next_chase_at", "pk")[:500])
    assert "notif_chase_due" in text and not FORBIDDEN.search(text), text
    # And it is the query sweep.candidates runs.
    assert len(sweep.candidates(now=at, batch=500)) == min(500, query.count())


# --- the risk flags and the estimates (issue 13) -------------------------------------------

# The flags' and the estimate view's queries read the items and the party names too: neither
# may be read whole at filing.
FORBIDDEN_RISK = re.compile(
    r"Seq Scan on (notifications_notification|notifications_item|incidents_notificationpartyname)\b"
)


def plans_of(function, *args, **kwargs) -> list[tuple[str, str]]:
    """(SQL, plan) of every SELECT ``function`` runs, planned with sequential scans priced
    out (and pg_trgm's threshold as backtracking sets it)."""
    from django.test.utils import CaptureQueriesContext

    from incidents.backtracking import CANDIDATE_SIMILARITY

    with CaptureQueriesContext(connection) as captured:
        function(*args, **kwargs)
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    out = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [CANDIDATE_SIMILARITY])
        for sql in selects:
            cursor.execute("EXPLAIN " + sql)
            out.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return out


def assert_no_scan_of_the_big_tables(plans, *tables):
    for table in tables:
        assert any(table in sql for sql, _plan in plans), f"no query read {table}: {[s for s, _p in plans]}"
    for sql, text in plans:
        assert not FORBIDDEN_RISK.search(text), f"{sql}\n{text}"


@pytest.fixture
def indexed(seeded):
    """The seed with its party names (seed_scale does not write them), ANALYZEd."""
    call_command("index_party_names", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def test_the_estimate_view_s_query_uses_indexes(seeded):
    from monitoring import estimates

    substances = estimates.alr_substances()
    for country in busiest_and_quietest_importers():
        text = plan(
            estimates.counted_items([country], NOW.year - 1, substances).values_list(
                "notification__importing_country_id", "substance_id", "quantity", "unit"
            )
        )
        assert not FORBIDDEN_RISK.search(text), f"{country}:\n{text}"
        # What the view runs (monitoring.api -> estimates.rows): notified() among its queries.
        plans = plans_of(estimates.rows, [country], NOW.year - 1)
        assert_no_scan_of_the_big_tables(plans, "notifications_item")
        plans = plans_of(estimates.notified, [country], NOW.year, substances, exclude=1, sent_before=(NOW, 10**9))
        # The items' own copy of destination, time and status: no join with the notifications.
        assert_no_scan_of_the_big_tables(plans, "notifications_item")
        assert all("item_by_destination" in text for _sql, text in plans if "notifications_item" in _sql), plans


def test_the_unusual_quantity_history_uses_indexes(seeded):
    from authorities.models import Substance
    from monitoring import flags

    for country in busiest_and_quietest_importers():
        for code in ("ephedrine", "acetone"):
            substance = Substance.objects.get(code=code)
            for history in (flags.history_of, flags.history_stats):
                plans = plans_of(history, country, substance, until=NOW, exclude=1)
                assert_no_scan_of_the_big_tables(plans, "notifications_item")
                assert all("item_by_destination" in text for _sql, text in plans), plans


def test_the_party_name_flags_use_indexes(indexed):
    from incidents.models import NotificationPartyName
    from monitoring import flags

    for country in busiest_and_quietest_importers():
        sent = Notification.objects.filter(importing_country_id=country).exclude(status=Status.DRAFT)
        notification = sent.order_by("-submitted_at", "-pk").first()
        assert NotificationPartyName.objects.filter(notification=notification, role="importer").exists()
        for assess in (flags.assess_new_importer, flags.assess_prior_objection):
            plans = plans_of(assess, notification, now=NOW)
            assert_no_scan_of_the_big_tables(plans, "incidents_notificationpartyname")
