"""The incident form in a browser (issue 11): sent with mistakes, it shows each error
beside its field and in the summary, fits a phone and passes axe; the screenshots are
docs/screenshots/incident-form-errors-*.png."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from tests.browser import login
from tests.conftest import PASSWORD
from tests.test_every_page_browser import WIDTHS, Visit, check, to


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_form_sent_with_mistakes_shows_them_inline_on_a_phone(page, live_server, cast):
    login(page, live_server, "transit_officer", PASSWORD)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.goto(live_server.url + reverse("incidents:create"))
    page.select_option("#id_kind", "seizure")
    page.fill("#id_occurred_on", (timezone.now().date() + timedelta(days=3)).isoformat())
    page.fill("#id_description", "Drums of ephedrine declared as salt.")
    page.fill("#id_route", "CN, NL, NL, MX")
    page.fill("[id='id_substances.0.chemical_name']", "Safrole oil")
    page.fill("[id='id_substances.0.cas_number']", "94-59-8")
    page.fill("[id='id_parties.0.address']", "12 Ring Road, Accra")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("li").count() == 4
    assert page.locator("[id='id_parties.0.name']").locator("xpath=..").locator(".errorlist").is_visible()
    assert Incident.objects.count() == 0
    visit = Visit("incident-form-errors", "transit", to("incidents:create"))
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += check(page, visit, width)
    assert problems == [], "\n".join(problems)
