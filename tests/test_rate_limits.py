"""Issue 16, finding 7 (rate limits): the API is throttled per licensing system, and a
client secret cannot be guessed at the speed of the network."""

import base64
import os

import pytest
from django.core.cache import caches
from django.test import Client

from accounts.services import create_api_client
from tests.api_helpers import bearer, token_for

pytestmark = pytest.mark.django_db


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_licensing_system_is_throttled_per_client_with_a_json_429(client, cast, settings):
    settings.API_RATE_PER_CLIENT = "3/minute"
    exporter = bearer(token_for(client, cast.exporter))
    importer = bearer(token_for(client, cast.importer, name="Other system"))
    statuses = [client.get("/api/v1/notifications/", headers=exporter).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/notifications/", headers=exporter)
    assert refused["Content-Type"].startswith("application/json") and "Retry-After" in refused
    assert "throttled" in refused.json()["detail"].lower() or "request" in refused.json()["detail"].lower()
    # Another authority's system has its own budget.
    assert client.get("/api/v1/notifications/", headers=importer).status_code == 200


def test_anonymous_callers_are_throttled_by_address(client, settings):
    """Protected endpoints answer an anonymous caller 401 before any throttle; what an
    anonymous caller can reach is the schema, costly to generate."""
    settings.API_RATE_ANONYMOUS = "2/minute"
    statuses = [client.get("/api/schema/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_failed_token_requests_are_bounded_and_then_even_the_right_secret_waits(cast, settings):
    settings.TOKEN_FAILURE_LIMIT = 3
    http = Client()
    _api_client, client_id, secret = create_api_client(authority=cast.exporter, name="Licensing system")
    wrong = [
        http.post("/oauth/token/", {"grant_type": "client_credentials"}, headers=basic(client_id, "guess")).status_code
        for _ in range(3)
    ]
    assert wrong == [401, 401, 401]
    locked = http.post("/oauth/token/", {"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert locked.status_code == 429 and locked.json()["error"] == "invalid_request"
    assert int(locked["Retry-After"]) == settings.TOKEN_FAILURE_WINDOW_SECONDS
    # Another client's secret is not affected.
    _other, other_id, other_secret = create_api_client(authority=cast.importer, name="Other system")
    ok = http.post("/oauth/token/", {"grant_type": "client_credentials"}, headers=basic(other_id, other_secret))
    assert ok.status_code == 200


def test_successful_token_requests_are_not_counted(cast, settings):
    settings.TOKEN_FAILURE_LIMIT = 2
    http = Client()
    _api_client, client_id, secret = create_api_client(authority=cast.exporter, name="Licensing system")
    for _ in range(5):
        response = http.post("/oauth/token/", {"grant_type": "client_credentials"}, headers=basic(client_id, secret))
        assert response.status_code == 200


@pytest.mark.redis
def test_with_redis_the_counters_are_shared_by_every_web_process(settings):
    """Production's CACHES (REDIS_URL set): a counter written by one process is read by
    another, so the limits hold across gunicorn workers."""
    from django.core.cache.backends.redis import RedisCache

    location = os.environ["REDIS_URL"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location},
        "other": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location},
    }
    one, two = caches["default"], caches["other"]
    assert isinstance(one, RedisCache)
    key = f"pen-test-shared-{os.getpid()}"
    one.set(key, 7, timeout=30)
    assert two.get(key) == 7
    one.delete(key)
