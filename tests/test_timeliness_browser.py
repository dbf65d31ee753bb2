"""INCB's timeliness review and a country's page in a real browser, over a year of
history (screenshots in docs/screenshots/)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from authorities.models import Authority
from authorities.services import create_authority
from chasing import services as follow_ups
from notifications import services
from tests.browser import login, screenshot
from tests.conftest import PASSWORD, make_user
from tests.factories import file

# (country, authority, share answered on time, share answered late; the rest stays silent)
PROFILES = [
    ("GH", None, 0.95, 0.05),
    ("KE", "Pharmacy and Poisons Board", 0.45, 0.45),
    ("NG", "NAFDAC", 0.15, 0.15),
    ("IN", "Narcotics Control Bureau", 0.7, 0.25),
    ("FR", None, 0.9, 0.1),
    ("TH", "Food and Drug Administration", 0.8, 0.15),
    ("MX", "COFEPRIS", 0.6, 0.2),
    ("ZA", "SAHPRA", 0.85, 0.1),
]


def build_year(cast):
    """About 200 notifications from Germany due in 2025, answered as each country's profile
    says (a fixed random seed: the same history every run)."""
    rng = random.Random(2025)
    officers = {"GH": cast.importer_officer, "FR": cast.outsider_officer}
    for code, name, _on_time, _late in PROFILES:
        if name:
            authority = create_authority(
                code=f"{code.lower()}-cna",
                name=f"{name} ({code})",
                email=f"pen@{code.lower()}-cna.example.org",
                country_code=code,
                phone="+1 555 0100",
                address="Precursor Control Unit\nMinistry of Health",
            )[0]
            officers[code] = make_user(f"{code.lower()}_officer", authority, Role.OFFICER)
    silent = []
    for month in range(1, 13):
        for code, _name, on_time, late in PROFILES:
            for _ in range(rng.choice((1, 2, 2, 3))):
                # Sent 15 days (the reply period) before a reply-due date in this month of 2025.
                sent = datetime(2025, month, rng.randint(1, 28), 9, tzinfo=UTC) - timedelta(days=15)
                notification = file(cast, now=sent, importing_country=code, transit_countries=[])
                officer = officers[code]
                roll = rng.random()
                if roll < on_time:
                    when = sent + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8))
                elif roll < on_time + late:
                    when = sent + timedelta(days=rng.randint(17, 45), hours=rng.randint(0, 8))
                else:
                    silent.append(notification)
                    if rng.random() < 0.5:
                        services.acknowledge(actor=officer, notification=notification, now=sent + timedelta(days=1))
                    continue
                decision = "objection" if code in ("IN", "NG") and rng.random() < 0.3 else "no_objection"
                if code == "IN" and rng.random() < 0.3:
                    decision = "information_requested"
                services.respond(
                    actor=officer, notification=notification, decision=decision, comment="See letter.", now=when
                )
    nigeria = [n for n in silent if n.importing_country_id == "NG"]
    follow_ups.record_follow_up(
        actor=cast.incb_reviewer,
        notification=nigeria[0],
        channel="phone",
        note="Spoke to the duty officer; a reply was promised within the week",
        now=datetime(2025, 2, 3, 15, tzinfo=UTC),
    )
    for notification in nigeria[-3:]:
        follow_ups.record_follow_up(
            actor=cast.incb_reviewer,
            notification=notification,
            channel="email",
            note="Reminder sent to the focal point",
            now=datetime(2026, 1, 12, 10, tzinfo=UTC),
        )
    Authority.objects.filter(code="gh-fda").update(phone="+233 30 223 3200")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_incb_reviews_timeliness_and_drills_down_to_a_country(page, live_server, cast):
    build_year(cast)
    login(page, live_server, "incb_reviewer", PASSWORD)

    page.get_by_role("link", name="Timeliness", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Timeliness of replies, by importing country").is_visible()
    page.get_by_role("link", name="2025", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Compare a country in the chart").select_option("KE")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")

    chart = page.get_by_role("img", name="On-time rate by month of the reply-due date")
    assert chart.is_visible()
    table = page.get_by_role("table", name="Timeliness by importing country. Column headings sort the table.")
    assert table.get_by_role("row").count() == 1 + len(PROFILES)
    # The worst on-time rate first.
    assert table.get_by_role("row").nth(1).get_by_role("cell").first.inner_text() == "Nigeria"
    screenshot(page, "timeliness-review")

    table.get_by_role("link", name="Nigeria").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Nigeria").first.is_visible()
    assert page.get_by_role("img", name="Nigeria: on-time rate by month of the reply-due date").is_visible()
    assert page.get_by_role("link", name="Follow up Nigeria in the follow-up queue").get_attribute("href") == (
        "/incb/follow-up/?country=NG"
    )
    screenshot(page, "timeliness-country")
