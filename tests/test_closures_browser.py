"""Issue 14 in a real browser: INCB declares a closure on Ghana's country page (a refused
weekend first, its error beside the field), the page with its holidays and closure fits 1280
and 390 px and passes axe-core (screenshots in docs/screenshots/closures-*.png),
and the filing form's script switches to the hint that names the closure."""

from datetime import UTC, datetime, timedelta

import pytest

from authorities.models import Country, PeriodKind
from authorities.services import update_country_policy
from authorities.working_days import WorkingCalendar
from tests.browser import login, screenshot
from tests.conftest import PASSWORD
from tests.test_every_page_browser import WIDTHS, Visit, check, to


def _days_after_today(condition, skip=0):
    today = datetime.now(UTC).date()
    return [d for d in (today + timedelta(days=n) for n in range(1, 366)) if condition(d)][skip]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_incb_declares_a_closure_and_the_filing_form_names_it(page, live_server, cast):
    update_country_policy(
        country=Country.objects.get(code="GH"), reply_period_days=15, reply_period_kind=PeriodKind.WORKING
    )
    login(page, live_server, "incb_reviewer", PASSWORD)
    page.goto(f"{live_server.url}/authorities/countries/GH/")

    saturday = _days_after_today(lambda d: d.weekday() == 5)
    page.fill("#id_date", saturday.isoformat())
    page.fill("#id_reason", "Staff retreat")
    page.get_by_role("button", name="Declare the closure").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert "weekends are never working days" in page.locator("#id_date_error").inner_text()
    assert page.input_value("#id_reason") == "Staff retreat"  # kept for the second try
    page.locator("#closure-form").scroll_into_view_if_needed()
    screenshot(page, "closures-declare-refused-1280")

    day = _days_after_today(WorkingCalendar("GH").is_working_day)
    page.fill("#id_date", day.isoformat())
    page.get_by_role("button", name="Declare the closure").click()
    page.wait_for_load_state()
    assert "reply periods in working days to Ghana skip it" in page.locator(".messages").inner_text()
    assert "Staff retreat" in page.locator("#closures").inner_text()

    visit = Visit("closures-country-gh", "incb", to("authorities:country", "GH"))
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += check(page, visit, width)
    assert problems == [], "\n".join(problems)

    # The exporter's filing form: the hint follows the importing country, without a reload.
    page.context.clear_cookies()
    login(page, live_server, "exp_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/new/")
    hint = page.locator("#id_reply_due_helptext")
    page.select_option("#id_importing_country", "NL")
    assert "15 calendar days" in hint.inner_text()
    page.select_option("#id_importing_country", "GH")
    assert "15 working days" in hint.inner_text()
    assert "(Staff retreat) is a closure declared for Ghana" in hint.inner_text()
