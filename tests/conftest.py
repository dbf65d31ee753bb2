"""The fixed cast every test plays with.

Germany (DE) exports, Ghana (GH) imports, the Netherlands (NL) is on the route, France
(FR) is an outsider, Belgium (BE) an outsider the exporter may share a notification with,
and the INCB secretariat reviews. National authorities have an officer and, for the
main parties, an administrator and a viewer."""

import os
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection

from accounts.models import Role, User
from authorities.models import Authority
from authorities.services import create_authority, load_reference_data

pytest_plugins = ["tests.browser"]

IN_CI = os.environ.get("PEN_CI") == "1"
PASSWORD = "correct horse battery staple 42"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` or ``redis`` skip without those servers (a developer's quick
    run), never in CI."""
    on_postgres = "postgres" in os.environ.get("DATABASE_URL", "")
    on_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # In CI every test must run on the real stack: a skip is a failure there.
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (PEN_CI=1), which is not allowed: {report.longrepr}"


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False
    settings.PEN_REQUIRE_2FA = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Rate-limit counters per test (a fresh in-process cache), never shared through Redis
    # between tests or xdist workers; tests/test_rate_limits.py checks the Redis cache.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid.uuid4()}"}
    }


@pytest.fixture(autouse=True)
def _own_national_references():
    """Every test's filings number their national references from EXP-2026-0042 again."""
    from tests.factories import restart_national_references

    restart_national_references()


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    """Tests never ask real DNS (CI's network reaches only package registries, and a test
    must not depend on the world): a host name other than localhost does not resolve unless
    a test says what it resolves to (tests/test_webhooks.py, tests/test_webhook_addresses.py).
    Literal addresses pass, so the database, Redis and the live server are unaffected."""
    import ipaddress
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address((name or "").strip("[]").split("%")[0])
        except ValueError:
            if name not in (None, "", "localhost"):
                raise socket.gaierror(socket.EAI_NONAME, f"{name}: no DNS in tests") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@dataclass
class Cast:
    exporter: Authority
    importer: Authority
    transit: Authority
    outsider: Authority
    shared: Authority
    incb: Authority
    exporter_officer: User
    exporter_admin: User
    exporter_viewer: User
    importer_officer: User
    importer_admin: User
    importer_viewer: User
    transit_officer: User
    outsider_officer: User
    outsider_admin: User
    shared_officer: User
    incb_reviewer: User
    incb_admin: User


def make_user(username, authority, role, **extra):
    user = User(username=username, email=f"{username}@example.org", authority=authority, role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


# The cast's countries have generous standing estimates for the four ALR substances (an
# estimate of 2000 stays in force until replaced), so that an ordinary filing raises no
# ``alr_exceeded`` flag; tests of the estimates themselves build the cast without them.
CAST_ESTIMATE_KG = 1_000_000
CAST_ESTIMATE_YEAR = 2000


def give_standing_estimates(country_codes) -> None:
    from datetime import UTC, date, datetime

    from authorities.models import Substance
    from monitoring.models import Estimate, EstimateSource

    at = datetime(CAST_ESTIMATE_YEAR, 1, 1, tzinfo=UTC)
    Estimate.objects.bulk_create(
        Estimate(
            country_id=code,
            substance=substance,
            year=CAST_ESTIMATE_YEAR,
            quantity=CAST_ESTIMATE_KG,
            valid_from=date(CAST_ESTIMATE_YEAR, 1, 1),
            source=EstimateSource.IMPORT,
            recorded_at=at,
            flags_recomputed_at=at,
        )
        for code in country_codes
        for substance in Substance.objects.filter(alr_applicable=True)
    )


def build_cast(*, estimates: bool = True) -> Cast:
    load_reference_data()

    def authority(code, country, name):
        return create_authority(code=code, name=name, email=f"{code}@example.org", country_code=country)[0]

    exporter = authority("de-bopst", "DE", "Federal Opium Agency (DE)")
    importer = authority("gh-fda", "GH", "Food and Drugs Authority (GH)")
    transit = authority("nl-cibg", "NL", "Farmatec (NL)")
    outsider = authority("fr-ansm", "FR", "ANSM (FR)")
    shared = authority("be-fagg", "BE", "FAGG (BE)")  # an outsider the exporter may share with
    incb = create_authority(code="incb", name="INCB secretariat", email="incb@example.org", incb=True)[0]
    if estimates:
        give_standing_estimates(["DE", "GH", "NL", "FR", "BE"])
    return Cast(
        exporter=exporter,
        importer=importer,
        transit=transit,
        outsider=outsider,
        shared=shared,
        incb=incb,
        exporter_officer=make_user("exp_officer", exporter, Role.OFFICER),
        exporter_admin=make_user("exp_admin", exporter, Role.ADMINISTRATOR),
        exporter_viewer=make_user("exp_viewer", exporter, Role.VIEWER),
        importer_officer=make_user("imp_officer", importer, Role.OFFICER),
        importer_admin=make_user("imp_admin", importer, Role.ADMINISTRATOR),
        importer_viewer=make_user("imp_viewer", importer, Role.VIEWER),
        transit_officer=make_user("transit_officer", transit, Role.OFFICER),
        outsider_officer=make_user("out_officer", outsider, Role.OFFICER),
        outsider_admin=make_user("out_admin", outsider, Role.ADMINISTRATOR),
        shared_officer=make_user("shared_officer", shared, Role.OFFICER),
        incb_reviewer=make_user("incb_reviewer", incb, Role.REVIEWER),
        incb_admin=make_user("incb_admin", incb, Role.ADMINISTRATOR),
    )


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    return True
