"""The directory and the policy pages in a real browser (screenshots in docs/screenshots/)."""

import pytest

from authorities.models import Authority
from authorities.services import create_authority, update_country_policy
from tests.browser import login, screenshot
from tests.conftest import PASSWORD


def give_contacts(cast):
    """Contact details as a real directory has them, and a second authority in Germany."""
    contacts = {
        "de-bopst": ("+49 228 99 307 0", "Kurt-Georg-Kiesinger-Allee 3\n53175 Bonn"),
        "gh-fda": ("+233 30 223 3200", "P.O. Box CT 2783\nCantonments, Accra"),
        "nl-cibg": ("+31 70 340 5487", "Postbus 16114\n2500 BC Den Haag"),
        "fr-ansm": ("+33 1 55 87 30 00", "143-147 boulevard Anatole France\n93285 Saint-Denis"),
    }
    for code, (phone, address) in contacts.items():
        Authority.objects.filter(code=code).update(phone=phone, address=address)
    create_authority(
        code="de-gzd",
        name="Central Customs Authority, Precursor Monitoring (DE)",
        email="de-gzd@example.org",
        country_code="DE",
        phone="+49 228 303 0",
        address="Am Propsthof 78a\n53121 Bonn",
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_officer_finds_an_authority_in_the_directory(page, live_server, cast):
    give_contacts(cast)
    login(page, live_server, "exp_officer", PASSWORD)

    page.get_by_role("link", name="Directory").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Directory of competent national authorities").is_visible()
    for country in ["France", "Germany", "Ghana", "Netherlands"]:
        assert page.get_by_role("heading", name=country).is_visible()
    screenshot(page, "directory")

    page.get_by_label("Search the directory").fill("Germany")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Germany").is_visible()
    assert page.get_by_role("heading", name="Ghana").count() == 0
    table = page.get_by_role("table", name="Competent national authorities of Germany")
    assert table.get_by_role("row").count() == 3  # header and two authorities
    assert table.get_by_role("link", name="de-bopst@example.org").get_attribute("href") == "mailto:de-bopst@example.org"
    screenshot(page, "directory-search")

    page.get_by_label("Search the directory").fill("Atlantis")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="No authority matches “Atlantis”").is_visible()

    page.get_by_role("link", name="Show all authorities").click()
    page.get_by_role("link", name="Ghana").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Declared policy for incoming notifications").is_visible()
    assert page.get_by_text("15 calendar days after the notification is submitted.").is_visible()
    screenshot(page, "country")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_incb_staff_change_a_country_policy(page, live_server, cast):
    give_contacts(cast)
    update_country_policy(country=cast.transit.country, reply_regime="tacit_consent", reply_period_days=10)
    login(page, live_server, "incb_reviewer", PASSWORD)

    page.get_by_role("link", name="Country policies").click()
    page.get_by_label("Country", exact=True).fill("Ghana")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Change the policy of Ghana").click()
    page.wait_for_load_state("networkidle")

    page.get_by_label("Reply period (days)").fill("0")
    page.get_by_role("button", name="Save the policy").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").is_visible()
    screenshot(page, "policy-edit-error")

    page.get_by_label("Tacit consent after the reply period").check()
    page.get_by_label("Reply period (days)").fill("10")
    page.get_by_label("Working days (Monday to Friday)").check()
    page.get_by_label("Table I", exact=True).check()
    page.get_by_role("button", name="Save the policy").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_text("The declared policy of Ghana is saved.").is_visible()
    page.get_by_label("Only countries with a declared policy").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("row").count() == 3  # header, Ghana, the Netherlands
    screenshot(page, "policies")
