"""The directory, the country pages and INCB's page of declared policies."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from authorities.forms import CountryPolicyForm
from authorities.models import Country
from authorities.services import create_authority, update_country_policy

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("authorities:directory")
POLICIES = reverse("authorities:policies")


def policy_url(code):
    return reverse("authorities:policy_edit", args=[code])


def text(response) -> str:
    """The page's visible text, whitespace collapsed, for assertions on sentences."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def officer(client, cast):
    client.force_login(cast.exporter_officer)
    return client


# --- The directory -----------------------------------------------------------------------


def test_the_directory_needs_a_login(client, cast):
    response = client.get(DIRECTORY)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_directory_lists_authorities_under_their_country(officer, cast):
    create_authority(
        code="gh-nacob",
        name="Narcotics Control Commission (GH)",
        email="pen@nacoc.example",
        country_code="GH",
        phone="+233 30 000 0000",
        address="Accra",
    )

    response = officer.get(DIRECTORY)

    assert response.status_code == 200
    html = response.content.decode()
    headings = re.findall(r'<h2 id="country-(\w\w)">', html)
    assert headings == ["BE", "FR", "DE", "GH", "NL"]  # by country name: Belgium, France, Germany, Ghana, Netherlands
    ghana = html[html.index('id="country-GH"') : html.index('id="country-NL"')]
    assert "Food and Drugs Authority (GH)" in ghana and "Narcotics Control Commission (GH)" in ghana
    assert '<a href="mailto:gh-fda@example.org">' in ghana
    assert "+233 30 000 0000" in ghana
    assert ghana.count("Focal point</span>") == 1  # only the FDA, the first of Ghana's authorities
    assert "INCB secretariat" not in html  # the directory is of national authorities
    assert "6 authorities, in 5 countries." in text(response)
    # Every table of the page is named for screen readers.
    assert html.count("<table") == html.count("<caption") == 5
    assert '<label for="id_q">' in html


@pytest.mark.parametrize(
    "term, expected",
    [
        ("Ghana", ["gh-fda"]),
        ("gh", ["gh-fda"]),
        ("opium", ["de-bopst"]),
        ("nl-cibg", ["nl-cibg"]),
        ("  France ", ["fr-ansm"]),
    ],
)
def test_the_directory_searches_names_codes_and_countries(officer, term, expected):
    response = officer.get(DIRECTORY, {"q": term})

    assert response.status_code == 200
    assert [authority.code for authority in response.context["authorities"]] == expected
    assert f'value="{term.strip()}"' in response.content.decode()


def test_a_search_that_finds_nothing_says_what_to_try(officer):
    response = officer.get(DIRECTORY, {"q": "Atlantis"})

    assert response.status_code == 200
    page = text(response)
    assert "No authority matches “Atlantis”" in page
    assert "two-letter code" in page
    assert "Show all authorities" in page
    assert "<table" not in response.content.decode()


def test_the_search_term_is_escaped(officer):
    response = officer.get(DIRECTORY, {"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()


# --- Country pages -----------------------------------------------------------------------


def test_the_country_page_gives_the_default_policy_in_plain_words(officer):
    response = officer.get(reverse("authorities:country", args=["GH"]))

    assert response.status_code == 200
    page = text(response)
    assert "Explicit consent required." in page
    assert "Silence never clears a shipment." in page
    assert "15 calendar days after the notification is submitted." in page
    assert "Not invoked." in page
    assert "No declared policy has been recorded" in page


def test_the_country_page_gives_a_declared_policy_and_the_focal_points_contacts(officer, cast):
    update_country_policy(
        country=cast.importer.country,
        reply_regime="tacit_consent",
        reply_period_days=1,
        reply_period_kind="working",
        article_12_10a_tables="table_i_and_ii",
    )
    create_authority(code="gh-nacob", name="Narcotics Control Commission (GH)", email="n@x.example", country_code="GH")

    response = officer.get(reverse("authorities:country", args=["gh"]))

    page = text(response)
    assert "Tacit consent after the reply period." in page
    assert "1 working day (Monday to Friday)" in page
    assert "Invoked for Tables I and II" in page
    assert "Declared policy recorded by INCB on" in page
    focal = page[page.index("Focal point Notifications to Ghana") :]
    assert focal.index("Food and Drugs Authority (GH)") < focal.index("Other competent national authorities")
    assert "gh-fda@example.org" in focal
    assert "Narcotics Control Commission (GH)" in page[page.index("Other competent national authorities") :]
    assert "Change this policy" not in page  # only for INCB


def test_a_country_without_authorities_says_so(officer):
    page = text(officer.get(reverse("authorities:country", args=["BR"])))
    assert "No authority of Brazil uses the portal yet" in page


def test_an_unknown_country_is_404(officer):
    assert officer.get(reverse("authorities:country", args=["ZZ"])).status_code == 404


# --- INCB's policy page ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["incb_reviewer", "incb_admin"])
def test_incb_staff_see_the_policies_of_every_country(client, cast, role):
    client.force_login(getattr(cast, role))

    response = client.get(POLICIES)

    assert response.status_code == 200
    assert len(response.context["countries"]) == 249
    assert f'href="{policy_url("GH")}"' in response.content.decode()


def test_the_policy_list_filters_by_search_regime_and_declared(client, cast):
    client.force_login(cast.incb_reviewer)
    update_country_policy(country=Country.objects.get(code="GH"), reply_regime="tacit_consent")

    def codes(**params):
        return [country.code for country in client.get(POLICIES, params).context["countries"]]

    assert codes(q="ghana") == ["GH"]
    assert codes(q="nld") == ["NL"]  # alpha-3
    assert codes(regime="tacit_consent") == ["GH"]
    assert codes(declared="1") == ["GH"]
    assert len(codes(regime="explicit_consent")) == 248
    nothing = client.get(POLICIES, {"q": "Atlantis"})
    assert "No country matches these filters" in text(nothing)


@pytest.mark.parametrize("role", ["incb_reviewer", "incb_admin"])
def test_incb_staff_change_a_declared_policy(client, cast, role):
    client.force_login(getattr(cast, role))
    assert client.get(policy_url("GH")).status_code == 200

    response = client.post(
        policy_url("gh"),
        {
            "reply_regime": "tacit_consent",
            "reply_period_days": "10",
            "reply_period_kind": "working",
            "article_12_10a_tables": "table_i",
        },
        follow=True,
    )

    assert response.redirect_chain == [(POLICIES, 302)]
    assert "The declared policy of Ghana is saved." in text(response)
    ghana = Country.objects.get(code="GH")
    assert (ghana.reply_regime, ghana.reply_period_days, ghana.reply_period_kind, ghana.article_12_10a_tables) == (
        "tacit_consent",
        10,
        "working",
        "table_i",
    )
    assert ghana.policy_updated_at is not None
    # Nothing else changed.
    assert Country.objects.filter(policy_updated_at__isnull=False).count() == 1


def test_invalid_input_is_shown_beside_its_field_and_nothing_changes(client, cast):
    client.force_login(cast.incb_admin)

    response = client.post(
        policy_url("GH"),
        {"reply_regime": "whenever", "reply_period_days": "0", "reply_period_kind": "working"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"reply_regime", "reply_period_days"}
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#id_reply_period_days"' in html and 'href="#id_reply_regime_0"' in html
    assert 'id="id_reply_period_days_error"' in html
    # The current policy beside the form is still the stored one.
    assert "15 calendar days" in text(response)
    ghana = Country.objects.get(code="GH")
    assert (ghana.reply_regime, ghana.reply_period_days, ghana.policy_updated_at) == ("explicit_consent", 15, None)


def test_an_absurd_reply_period_is_refused(client, cast):
    client.force_login(cast.incb_reviewer)
    response = client.post(
        policy_url("GH"),
        {"reply_regime": "explicit_consent", "reply_period_days": "3650", "reply_period_kind": "calendar"},
    )
    assert response.status_code == 200
    assert "reply_period_days" in response.context["form"].errors
    assert Country.objects.get(code="GH").reply_period_days == 15


@pytest.mark.parametrize("role", ["exporter_officer", "exporter_admin", "importer_officer", "outsider_admin"])
def test_national_users_get_404_from_the_policy_pages_and_change_nothing(client, cast, role):
    client.force_login(getattr(cast, role))

    assert client.get(POLICIES).status_code == 404
    assert client.get(policy_url("GH")).status_code == 404
    response = client.post(
        policy_url("GH"),
        {"reply_regime": "tacit_consent", "reply_period_days": "5", "reply_period_kind": "calendar"},
    )

    assert response.status_code == 404
    ghana = Country.objects.get(code="GH")
    assert (ghana.reply_regime, ghana.reply_period_days, ghana.policy_updated_at) == ("explicit_consent", 15, None)
    # Not even linked to.
    assert f'href="{POLICIES}"' not in client.get(DIRECTORY).content.decode()


def test_the_policy_pages_need_a_login(client, cast):
    assert client.get(POLICIES).status_code == 302
    assert client.post(policy_url("GH"), {"reply_regime": "tacit_consent"}).status_code == 302
    assert Country.objects.get(code="GH").reply_regime == "explicit_consent"


def test_an_unknown_country_policy_is_404_for_incb(client, cast):
    client.force_login(cast.incb_reviewer)
    assert client.get(policy_url("ZZ")).status_code == 404


def test_incb_staff_find_the_way_from_a_country_page_to_its_policy(client, cast):
    client.force_login(cast.incb_reviewer)
    html = client.get(reverse("authorities:country", args=["GH"])).content.decode()
    assert f'href="{policy_url("GH")}"' in html
    assert f'href="{POLICIES}"' in html  # in the main navigation


def test_a_service_error_lands_beside_its_field_or_above_the_form():
    form = CountryPolicyForm(
        data={"reply_regime": "explicit_consent", "reply_period_days": "5", "reply_period_kind": "calendar"}
    )
    assert form.is_valid()

    form.add_service_error(ValidationError({"reply_period_days": "Too short.", "alpha3": "Not yours."}))
    form.add_service_error(ValidationError("Something else."))

    assert form.errors["reply_period_days"] == ["Too short."]
    assert form.non_field_errors() == ["Not yours.", "Something else."]
    anchors = [anchor for anchor, _message in form.error_anchors()]
    assert anchors == ["policy-form", "policy-form", "id_reply_period_days"]
