"""GET /api/v1/substances/, /countries/ and /authorities/: the contract's names and values."""

import pytest
from django.utils import timezone

from accounts.services import create_api_client
from authorities.services import update_country_policy

pytestmark = pytest.mark.django_db

REFERENCE_LISTS = ["/api/v1/substances/", "/api/v1/countries/", "/api/v1/authorities/"]


@pytest.fixture
def api(client, cast):
    client.force_login(cast.importer_viewer)
    return client


def results(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert body["count"] == len(body["results"])
    return body["results"]


def test_substances_carry_the_contract_fields_and_values(api):
    substances = {row["code"]: row for row in results(api.get("/api/v1/substances/"))}

    assert len(substances) == 56
    assert substances["ephedrine"] == {
        "code": "ephedrine",
        "name": "Ephedrine",
        "schedule": "table_i",
        "cas_number": "299-42-3",
        "hs_code": "2939.41",
        "alr_applicable": True,
        "active": True,
        "recommended_actions": "",
    }
    assert substances["potassium-permanganate"]["alr_applicable"] is False
    assert {row["schedule"] for row in substances.values()} == {"table_i", "table_ii", "special_surveillance"}


def test_a_substance_by_code(api):
    response = api.get("/api/v1/substances/pseudoephedrine/")
    assert response.status_code == 200
    assert response.json()["name"] == "Pseudoephedrine"


def test_substances_filter_by_schedule(api):
    rows = results(api.get("/api/v1/substances/", {"schedule": "table_ii"}))
    assert len(rows) == 8
    assert {row["schedule"] for row in rows} == {"table_ii"}


def test_all_249_countries_come_in_one_page_with_their_declared_policy(api):
    countries = {row["code"]: row for row in results(api.get("/api/v1/countries/"))}

    assert len(countries) == 249
    ghana = countries["GH"]
    assert {
        key: ghana[key] for key in ["code", "name", "reply_regime", "reply_period_days", "article_12_10a_invoked"]
    } == {
        "code": "GH",
        "name": "Ghana",
        "reply_regime": "explicit_consent",
        "reply_period_days": 15,
        "article_12_10a_invoked": False,
    }
    assert ghana["reply_period_kind"] == "calendar"
    assert ghana["policy_updated_at"] is None


def test_a_declared_policy_shows_in_the_country(api, cast):
    update_country_policy(
        country=cast.importer.country,
        reply_regime="tacit_consent",
        reply_period_days=10,
        reply_period_kind="working",
        article_12_10a_tables="table_i_and_ii",
    )

    response = api.get("/api/v1/countries/GH/")

    assert response.status_code == 200
    body = response.json()
    assert (body["reply_regime"], body["reply_period_days"], body["reply_period_kind"]) == (
        "tacit_consent",
        10,
        "working",
    )
    assert (body["article_12_10a_invoked"], body["article_12_10a_tables"]) == (True, "table_i_and_ii")
    assert body["policy_updated_at"].startswith(str(timezone.now().year))


def test_a_country_by_code_in_either_case(api):
    assert api.get("/api/v1/countries/gh/").json()["code"] == "GH"
    assert api.get("/api/v1/countries/NL/").json()["name"] == "Netherlands"


def test_countries_filter_by_article_12_10a(api, cast):
    update_country_policy(country=cast.importer.country, article_12_10a_tables="table_i")
    invoked = results(api.get("/api/v1/countries/", {"article_12_10a_invoked": "true"}))
    assert [row["code"] for row in invoked] == ["GH"]
    assert len(results(api.get("/api/v1/countries/", {"article_12_10a_invoked": "false"}))) == 248


def test_the_directory_of_authorities(api, cast):
    rows = {row["code"]: row for row in results(api.get("/api/v1/authorities/"))}

    assert set(rows) == {"de-bopst", "gh-fda", "nl-cibg", "fr-ansm", "be-fagg", "incb"}
    gh = rows["gh-fda"]
    assert {key: gh[key] for key in ["code", "name", "country", "email", "is_focal_point"]} == {
        "code": "gh-fda",
        "name": "Food and Drugs Authority (GH)",
        "country": "GH",
        "email": "gh-fda@example.org",
        "is_focal_point": True,
    }
    assert gh["kind"] == "national"
    assert (rows["incb"]["country"], rows["incb"]["kind"], rows["incb"]["is_focal_point"]) == (None, "incb", False)


def test_an_authority_by_code(api):
    response = api.get("/api/v1/authorities/de-bopst/")
    assert response.status_code == 200
    assert response.json()["country"] == "DE"


def test_authorities_filter_by_country_and_search(api):
    assert [row["code"] for row in results(api.get("/api/v1/authorities/", {"country": "nl"}))] == ["nl-cibg"]
    assert [row["code"] for row in results(api.get("/api/v1/authorities/", {"q": "Ghana"}))] == ["gh-fda"]
    assert results(api.get("/api/v1/authorities/", {"country": "ZZ"})) == []


@pytest.mark.parametrize("path", ["/api/v1/substances/nothing/", "/api/v1/countries/ZZ/", "/api/v1/authorities/zz/"])
def test_an_unknown_code_is_404_with_the_common_body(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path", [*REFERENCE_LISTS, "/api/v1/countries/GH/"])
def test_anonymous_is_401_with_a_bearer_challenge(client, cast, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_bearer_token_is_401(client, cast):
    response = client.get("/api/v1/countries/", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", REFERENCE_LISTS)
def test_every_authenticated_user_may_read_reference_data(client, cast, path):
    for user in [cast.exporter_officer, cast.outsider_admin, cast.incb_reviewer, cast.transit_officer]:
        client.force_login(user)
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/countries/", "/api/v1/authorities/"])
def test_reference_data_is_read_only(api, path):
    assert api.post(path, {"code": "x"}, content_type="application/json").status_code == 405


def test_only_incb_adds_to_the_substances(api):
    # The special surveillance list is INCB's (tests/test_surveillance_list.py); the tables are nobody's here.
    assert api.post("/api/v1/substances/", {"name": "x"}, content_type="application/json").status_code == 403
    assert api.delete("/api/v1/substances/ephedrine/").status_code == 405
    assert api.put("/api/v1/substances/ephedrine/", {}, content_type="application/json").status_code == 405


def test_the_schema_documents_the_reference_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path in ["/api/v1/substances/", "/api/v1/countries/", "/api/v1/authorities/"]:
        operation = schema["paths"][path]["get"]
        assert operation["description"]
        assert {"200", "401"} <= set(operation["responses"])
    country = schema["components"]["schemas"]["Country"]["properties"]
    assert country["reply_period_days"]["description"]
    assert schema["components"]["schemas"]["Authority"]["properties"]["is_focal_point"]["description"]


def test_a_machine_client_with_any_scope_reads_reference_data(client, cast):
    _api_client, client_id, secret = create_api_client(
        authority=cast.importer, name="Licensing system", scopes=["statistics:read"]
    )
    token = client.post(
        "/oauth/token/", {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert token.status_code == 200, token.content
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}

    for path in REFERENCE_LISTS:
        assert client.get(path, headers=bearer).status_code == 200
    assert client.get("/api/v1/countries/GH/", headers=bearer).json()["code"] == "GH"
