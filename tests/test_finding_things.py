"""Issue 18, defects 4 and 5 (first half): finding things, and filters that never filter on
something other than what was meant.

- The header has "Notifications" (the list) and marks the current section.
- A search by reference in the header: a whole reference, however typed, opens it; part of
  one lists the visible matches; one the user may not see looks like one that does not exist
  (tests/test_permission_matrix.py, test_search_matrix, for every principal and state).
- The transit authority's dashboard shows what is routed through its country; "awaiting a
  reply from us" only what waits on us, and requests for information apart.
- The follow-up queue's country is chosen by name; "Netherlands" is an error, not Niger."""

import re
import unicodedata
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from chasing import sweep
from notifications import services
from tests.factories import file

pytestmark = pytest.mark.django_db


def section(response, heading_id: str) -> str:
    """The HTML of the dashboard section labelled by ``heading_id`` ("" when absent)."""
    html = response.content.decode()
    found = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, flags=re.S)
    return found.group(0) if found else ""


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def nav_links(response) -> dict[str, bool]:
    """The main navigation's items: label -> whether it is marked the current page."""
    html = response.content.decode()
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, flags=re.S).group(0)
    return {
        text(label): 'aria-current="page"' in attributes
        for attributes, label in re.findall(r"<a ([^>]*)>(.*?)</a>", nav, flags=re.S)
    }


# --- the header ------------------------------------------------------------------------------


def test_the_header_has_notifications_and_marks_the_current_section(client, cast):
    n = file(cast, now=timezone.now())
    client.force_login(cast.exporter_officer)
    on_list = nav_links(client.get(reverse("notifications:list")))
    assert on_list["Notifications"] is True
    assert on_list["Dashboard"] is False
    on_detail = nav_links(client.get(n.get_absolute_url()))
    assert on_detail["Notifications"] is True  # a notification is part of the list's section
    on_dashboard = nav_links(client.get(reverse("notifications:dashboard")))
    assert on_dashboard["Dashboard"] is True and on_dashboard["Notifications"] is False
    assert [label for label, current in nav_links(client.get(reverse("authorities:directory"))).items() if current] == [
        "Directory"
    ]
    client.force_login(cast.incb_reviewer)
    queue = nav_links(client.get(reverse("followup:queue")))
    assert [label for label, current in queue.items() if current] == ["Follow-up queue"]
    policies = nav_links(client.get(reverse("authorities:policies")))
    assert [label for label, current in policies.items() if current] == ["Country policies"]


def test_every_signed_in_page_has_the_search_box_a_plain_get_form(client, cast):
    client.force_login(cast.transit_officer)
    html = client.get(reverse("authorities:directory")).content.decode()
    form = re.search(r'<form[^>]*class="header-search".*?</form>', html, flags=re.S).group(0)
    assert 'method="get"' in form and f'action="{reverse("notifications:search")}"' in form
    assert 'name="reference"' in form and '<label for="header-search"' in form
    client.logout()
    assert "header-search" not in client.get(reverse("accounts:login")).content.decode()


# --- the search --------------------------------------------------------------------------------


def test_a_whole_reference_however_typed_opens_the_notification(client, cast):
    n = file(cast, now=timezone.now())
    client.force_login(cast.importer_officer)
    country, year, number = n.reference.split("-")
    for typed in (
        n.reference,
        f"  {n.reference.lower()} ",
        f"{country} {year} {number}",
        f"{country}-{year}-{int(number)}",
        f"{country}\u2013{year}\u2013{number}",
    ):
        response = client.get(reverse("notifications:search"), {"reference": typed})
        assert response.status_code == 302 and response["Location"] == n.get_absolute_url(), typed


def test_part_of_a_reference_lists_only_the_visible_matches(client, cast):
    now = timezone.now()
    ours = [file(cast, now=now), file(cast, now=now)]
    # Filed by France to Ghana: the German exporter may not see it, the Ghanaian importer may.
    theirs = file(cast, now=now, actor=cast.outsider_officer)
    client.force_login(cast.exporter_officer)
    year = ours[0].reference.split("-")[1]
    page = client.get(reverse("notifications:search"), {"reference": f" -{year}- "})
    assert page.status_code == 200
    body = page.content.decode()
    assert all(n.reference in body for n in ours)
    assert theirs.reference not in body
    assert "2 notifications match" in text(body)
    client.force_login(cast.importer_officer)
    body = client.get(reverse("notifications:search"), {"reference": f"-{year}-"}).content.decode()
    assert all(n.reference in body for n in [*ours, theirs])


def test_the_exporters_own_reference_is_found_too(client, cast):
    n = file(cast, now=timezone.now(), national_reference="Ausfuhr 2026/117")
    client.force_login(cast.exporter_officer)
    body = client.get(reverse("notifications:search"), {"reference": "ausfuhr 2026/117"}).content.decode()
    assert n.reference in body


def test_no_match_says_so_and_an_empty_or_too_long_term_is_a_page_not_an_error(client, cast):
    file(cast, now=timezone.now())
    client.force_login(cast.exporter_officer)
    none = client.get(reverse("notifications:search"), {"reference": "XX-1999-1"})
    assert none.status_code == 200 and "No notification matches “XX-1999-1”" in text(none.content.decode())
    empty = client.get(reverse("notifications:search"))
    assert empty.status_code == 200 and "Find a notification" in text(empty.content.decode())
    long = client.get(reverse("notifications:search"), {"reference": "D" * 101})
    assert long.status_code == 200
    assert "Ensure this value has at most 100 characters" in text(long.content.decode())


def test_the_search_needs_a_login(client):
    response = client.get(reverse("notifications:search"), {"reference": "DE-2026-000001"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the dashboard ----------------------------------------------------------------------------


def test_the_transit_authority_sees_what_is_routed_through_its_country(client, cast):
    now = timezone.now()
    routed = file(cast, now=now, transit_countries=["NL"])
    elsewhere = file(cast, now=now, transit_countries=["BE"])
    client.force_login(cast.transit_officer)
    page = client.get(reverse("notifications:dashboard"))
    transit = section(page, "transit-heading")
    assert "Transit: routed through Netherlands" in text(transit)
    assert "no reply is asked of you" in text(transit)  # what a transit authority does
    assert routed.reference in transit and elsewhere.reference not in transit
    # Nothing incoming or outgoing: what is routed through it comes first.
    html = page.content.decode()
    assert html.index('id="transit-heading"') < html.index('id="incoming-heading"')
    # The importing authority is not a transit country of it: its section says so, empty.
    client.force_login(cast.importer_officer)
    page = client.get(reverse("notifications:dashboard"))
    assert routed.reference not in section(page, "transit-heading")
    html = page.content.decode()
    assert html.index('id="incoming-heading"') < html.index('id="transit-heading"')


def test_awaiting_a_reply_from_us_lists_only_what_waits_on_us(client, cast):
    now = timezone.now()
    waiting = file(cast, now=now)
    asked = file(cast, now=now)
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment="?", now=now
    )
    client.force_login(cast.importer_officer)
    page = client.get(reverse("notifications:dashboard"))
    ours = section(page, "incoming-heading")
    assert waiting.reference in ours and asked.reference not in ours
    theirs = section(page, "asked-heading")
    assert "Incoming: we asked for information" in text(theirs)
    assert asked.reference in theirs and waiting.reference not in theirs


def test_without_a_request_for_information_the_dashboard_has_no_such_section(client, cast):
    file(cast, now=timezone.now())
    client.force_login(cast.importer_officer)
    assert section(client.get(reverse("notifications:dashboard")), "asked-heading") == ""


# --- the follow-up queue's country --------------------------------------------------------------


def filed_long_ago():
    """Long enough ago that the reply is overdue today (the queue reads today's date)."""
    return timezone.now() - timedelta(days=40)


@pytest.fixture
def overdue_to_the_netherlands(cast):
    notification = file(cast, now=filed_long_ago(), importing_country="NL", transit_countries=[])
    sweep.sweep(now=timezone.now())
    return notification


def queue(client, **params):
    return client.get(reverse("followup:queue"), params)


def by_name(name):
    """Alphabetical as a person reads it: accents do not count, nor case."""
    return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c)).lower()


def test_the_queue_country_is_a_select_of_names_sorted_valued_by_code(client, cast):
    client.force_login(cast.incb_reviewer)
    html = queue(client).content.decode()
    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', html, flags=re.S)
    assert select, "a select, not a free-text box"
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    assert options[0] == ("", "Every country")
    assert ("NL", "Netherlands") in options and ("NE", "Niger") in options
    names = [unescape(name) for _code, name in options[1:]]
    assert names == sorted(names, key=by_name)  # "Åland Islands" with the A's, not after "Zimbabwe"
    assert names.index("Åland Islands") < names.index("Albania")
    assert len(options) > 240  # every country (ISO 3166-1), not only those with something overdue


def test_a_country_typed_by_name_is_an_error_never_another_country(client, cast, overdue_to_the_netherlands):
    client.force_login(cast.incb_reviewer)
    page = queue(client, country="Netherlands")
    assert page.status_code == 200
    body = text(page.content.decode())
    assert "There is no country “Netherlands”: choose one from the list." in body
    # Not Niger's empty queue: every country's, with the Dutch notification in it.
    assert overdue_to_the_netherlands.reference in body
    assert "No notification is overdue" not in body


def test_the_chosen_country_filters_and_says_when_it_has_nothing(client, cast, overdue_to_the_netherlands):
    late_to_ghana = file(cast, now=filed_long_ago())
    sweep.sweep(now=timezone.now())
    client.force_login(cast.incb_reviewer)
    for value in ("NL", " nl "):
        body = queue(client, country=value).content.decode()
        assert overdue_to_the_netherlands.reference in body and late_to_ghana.reference not in body, value
        assert '<option value="NL" selected>Netherlands</option>' in body
    niger = text(queue(client, country="NE").content.decode())
    assert "No notification to Niger is overdue." in niger
    assert "There is no country" not in niger


# --- other country filters: the timeliness review ---------------------------------------------


def test_the_timeliness_review_says_when_a_country_filter_names_no_country(client, cast):
    client.force_login(cast.incb_reviewer)
    body = text(client.get(reverse("timeliness:review"), {"exporting": "Netherlands"}).content.decode())
    assert "There is no exporting country “Netherlands”" in body
    body = text(client.get(reverse("timeliness:review"), {"exporting": "NE"}).content.decode())
    assert "There is no exporting country “NE”" in body  # Niger has no authority on the portal
    body = text(client.get(reverse("timeliness:review"), {"country": "Ghana"}).content.decode())
    assert "There is no country “Ghana”" in body
    body = text(client.get(reverse("timeliness:review"), {"exporting": "DE"}).content.decode())
    assert "There is no" not in body
