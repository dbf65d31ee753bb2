"""The Django admin for operators: it changes things only through the services."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from authorities.models import Authority, Country, Substance
from authorities.services import create_authority

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, cast):
    user = User.objects.create_superuser("operator", "operator@example.org", "an operator password 1")
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("model", ["country", "substance", "authority"])
def test_the_lists_and_searches_load(operator, model):
    url = reverse(f"admin:authorities_{model}_changelist")
    assert operator.get(url).status_code == 200
    assert operator.get(url, {"q": "gh"}).status_code == 200


def test_a_country_policy_is_changed_through_the_service(operator):
    url = reverse("admin:authorities_country_change", args=["GH"])
    assert operator.get(url).status_code == 200

    response = operator.post(
        url,
        {
            "reply_regime": "tacit_consent",
            "reply_period_days": "12",
            "reply_period_kind": "working",
            "article_12_10a_tables": "table_i",
        },
    )

    assert response.status_code == 302
    ghana = Country.objects.get(code="GH")
    assert (ghana.reply_regime, ghana.reply_period_days, ghana.reply_period_kind, ghana.article_12_10a_tables) == (
        "tacit_consent",
        12,
        "working",
        "table_i",
    )
    assert ghana.policy_updated_at is not None  # set by update_country_policy
    assert (ghana.name, ghana.alpha3) == ("Ghana", "GHA")


def test_a_zero_reply_period_is_refused_in_the_admin(operator):
    response = operator.post(
        reverse("admin:authorities_country_change", args=["GH"]),
        {"reply_regime": "explicit_consent", "reply_period_days": "0", "reply_period_kind": "calendar"},
    )
    assert response.status_code == 200
    assert Country.objects.get(code="GH").reply_period_days == 15


def test_reference_rows_are_neither_added_nor_deleted_nor_substances_edited(operator):
    assert operator.get(reverse("admin:authorities_country_add")).status_code == 403
    assert operator.get(reverse("admin:authorities_country_delete", args=["GH"])).status_code == 403
    assert operator.get(reverse("admin:authorities_substance_add")).status_code == 403
    url = reverse("admin:authorities_substance_change", args=[Substance.objects.get(code="ephedrine").pk])
    assert operator.post(url, {"name": "Renamed"}).status_code == 403
    assert Substance.objects.get(code="ephedrine").name == "Ephedrine"


def test_adding_an_authority_goes_through_create_authority(operator):
    response = operator.post(
        reverse("admin:authorities_authority_add"),
        {
            "code": "br-anvisa",
            "name": "ANVISA (BR)",
            "kind": "national",
            "country": "BR",
            "email": "pen@anvisa.example",
            "phone": "",
            "address": "",
        },
    )

    assert response.status_code == 302, response.content
    anvisa = Authority.objects.get(code="br-anvisa")
    assert anvisa.is_focal_point  # the first of Brazil's authorities
    assert anvisa.group.name == "authority:br-anvisa"


def test_a_national_authority_without_a_country_is_refused(operator):
    response = operator.post(
        reverse("admin:authorities_authority_add"),
        {"code": "nowhere", "name": "Nowhere", "kind": "national", "email": "n@x.example"},
    )
    assert response.status_code == 200
    assert "country" in response.context["adminform"].form.errors
    assert not Authority.objects.filter(code="nowhere").exists()


def test_contact_details_are_edited_but_not_the_country_or_focal_point(operator, cast):
    url = reverse("admin:authorities_authority_change", args=[cast.importer.pk])
    response = operator.post(
        url,
        {
            "name": "Food and Drugs Authority",
            "email": "pen@fda.example",
            "phone": "+233 30 223 3200",
            "address": "P.O. Box CT 2783, Accra",
            "country": "NL",
            "is_focal_point": "",
        },
    )

    assert response.status_code == 302
    cast.importer.refresh_from_db()
    assert (cast.importer.name, cast.importer.phone, cast.importer.country_id, cast.importer.is_focal_point) == (
        "Food and Drugs Authority",
        "+233 30 223 3200",
        "GH",
        True,
    )


def test_the_make_focal_point_action_moves_it(operator, cast):
    second = create_authority(code="gh-nacoc", name="NACOC (GH)", email="n@x.example", country_code="GH")[0]

    response = operator.post(
        reverse("admin:authorities_authority_changelist"),
        {"action": "make_focal_point", "_selected_action": [second.pk]},
    )

    assert response.status_code == 302
    assert list(Authority.objects.filter(country_id="GH", is_focal_point=True)) == [second]
    assert messages_of(response) == ["1 authority is now its country's focal point."]


def test_two_authorities_of_one_country_cannot_both_be_made_focal_point(operator, cast):
    second = create_authority(code="gh-nacoc", name="NACOC (GH)", email="n@x.example", country_code="GH")[0]

    response = operator.post(
        reverse("admin:authorities_authority_changelist"),
        {"action": "make_focal_point", "_selected_action": [second.pk, cast.importer.pk]},
    )

    assert response.status_code == 302
    assert list(Authority.objects.filter(country_id="GH", is_focal_point=True)) == [cast.importer]
    assert "at most one authority per country" in messages_of(response)[0]


def test_the_incb_is_not_made_a_focal_point(operator, cast):
    response = operator.post(
        reverse("admin:authorities_authority_changelist"),
        {"action": "make_focal_point", "_selected_action": [cast.incb.pk]},
    )
    assert response.status_code == 302
    cast.incb.refresh_from_db()
    assert not cast.incb.is_focal_point
    assert "cannot be a country's focal point" in messages_of(response)[0]
