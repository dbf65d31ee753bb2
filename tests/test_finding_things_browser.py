"""Issue 18, defects 4, 5 and 7 in headless Chromium, as the people who met them: the transit
officer finds what is routed through the Netherlands on the dashboard and a notification by
its reference from the header; the importer sees its own requests for information apart from
what awaits its reply; INCB chooses the Netherlands by name in the follow-up queue, and a
name typed into the address is an error on the page. Screenshots at 1280 and 390 px."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chasing import sweep
from notifications import services
from tests.browser import login, screenshot
from tests.conftest import PASSWORD
from tests.factories import file
from web.dates import for_people

WIDTHS = (1280, 390)


def at_both_widths(page, name):
    """Screenshots at both widths; the page never scrolls sideways on a phone."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def current_nav_item(page) -> list[str]:
    return page.locator('.main-nav a[aria-current="page"]').all_inner_texts()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_transit_officer_finds_routed_notifications_and_one_by_its_reference(page, live_server, cast):
    now = timezone.now()
    routed = [file(cast, now=now - timedelta(days=i), transit_countries=["NL"]) for i in range(3)]
    elsewhere = file(cast, now=now, transit_countries=["BE"])

    login(page, live_server, "transit_officer", PASSWORD)
    assert current_nav_item(page) == ["Dashboard"]
    transit = page.locator("section", has=page.get_by_role("heading", name="Transit: routed through Netherlands"))
    assert transit.is_visible()
    assert transit.get_by_text("no reply is asked of you").is_visible()
    assert transit.locator("tbody tr th a").all_inner_texts() == [n.reference for n in routed]  # newest first
    assert transit.get_by_role("link", name=elsewhere.reference).count() == 0
    at_both_widths(page, "finding-dashboard-transit")

    # The header's search, typed as people type: lower case, spaces around. Enter sends it.
    wanted = routed[1]
    search = page.get_by_role("searchbox", name="Reference of a notification")
    search.fill(f"  {wanted.reference.lower()} ")
    search.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}{wanted.get_absolute_url()}"
    assert page.get_by_role("heading", name=wanted.reference).first.is_visible()
    assert current_nav_item(page) == ["Notifications"]

    # Part of a reference: the matches it may see, and no other.
    year = wanted.reference.split("-")[1]
    search = page.get_by_role("searchbox", name="Reference of a notification")
    search.fill(f"-{year}-00000")
    page.get_by_role("search", name="Find a notification").get_by_role("button", name="Find").click()
    page.wait_for_load_state("networkidle")
    found = page.locator("main tbody tr th a").all_inner_texts()
    assert set(found) == {n.reference for n in routed}
    assert page.get_by_role("heading", name=f"3 notifications match “-{year}-00000”").is_visible()
    at_both_widths(page, "finding-search-results")

    # A reference it may not read looks exactly like one that does not exist.
    page.goto(f"{live_server.url}/notifications/search/?reference={elsewhere.reference}")
    assert page.get_by_role("heading", name=f"No notification matches “{elsewhere.reference}”").is_visible()
    at_both_widths(page, "finding-search-no-match")

    # The same with JavaScript off: a plain GET form.
    context = page.context.browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    plain = context.new_page()
    login(plain, live_server, "transit_officer", PASSWORD)
    plain.get_by_role("searchbox", name="Reference of a notification").fill(wanted.reference)
    plain.get_by_role("search", name="Find a notification").get_by_role("button", name="Find").click()
    plain.wait_for_load_state("load")
    assert plain.url == f"{live_server.url}{wanted.get_absolute_url()}"
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_importer_sees_its_requests_for_information_apart(page, live_server, cast):
    now = timezone.now()
    waiting = file(cast, now=now)
    asked = file(cast, now=now - timedelta(days=1))
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment="?", now=now
    )
    login(page, live_server, "imp_officer", PASSWORD)
    ours = page.locator("section", has=page.get_by_role("heading", name="Incoming: awaiting a reply from us"))
    assert ours.locator("tbody tr th a").all_inner_texts() == [waiting.reference]
    theirs = page.locator("section", has=page.get_by_role("heading", name="Incoming: we asked for information"))
    assert theirs.locator("tbody tr th a").all_inner_texts() == [asked.reference]
    assert theirs.get_by_text("These wait on the exporting authority's answer").is_visible()
    # Dates for people in the one format.
    assert ours.get_by_text(for_people(waiting.reply_due)).is_visible()
    page.get_by_role("link", name="Notifications", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert current_nav_item(page) == ["Notifications"]
    page.goto(f"{live_server.url}/notifications/")
    at_both_widths(page, "finding-dashboard-importer")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_incb_chooses_the_country_of_the_follow_up_queue_by_name(page, live_server, cast):
    long_ago = timezone.now() - timedelta(days=40)
    to_the_netherlands = file(cast, now=long_ago, importing_country="NL", transit_countries=[])
    to_ghana = file(cast, now=long_ago)
    sweep.sweep(now=timezone.now())
    to_the_netherlands.refresh_from_db()

    login(page, live_server, "incb_reviewer", PASSWORD)
    page.get_by_role("link", name="Follow-up queue").click()
    page.wait_for_load_state("networkidle")
    assert current_nav_item(page) == ["Follow-up queue"]
    page.get_by_label("Importing country").select_option(label="Netherlands")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("link", name=to_the_netherlands.reference).is_visible()
    assert page.get_by_role("link", name=to_ghana.reference).count() == 0
    row = page.locator(f"#n-{to_the_netherlands.reference}")
    assert row.get_by_text(for_people(to_the_netherlands.reply_due), exact=True).is_visible()
    at_both_widths(page, "finding-follow-up-queue-netherlands")

    # A name typed into the address: said, with the whole queue, never Niger's empty one.
    page.goto(f"{live_server.url}/incb/follow-up/?country=Netherlands")
    alert = page.get_by_role("alert")
    assert alert.get_by_text("There is no country “Netherlands”: choose one from the list.").is_visible()
    assert page.get_by_role("link", name=to_the_netherlands.reference).is_visible()
    assert page.get_by_role("link", name=to_ghana.reference).is_visible()
    at_both_widths(page, "finding-follow-up-queue-unknown-country")
