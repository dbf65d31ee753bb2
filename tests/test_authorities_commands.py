"""The create_authority command (as operators script it) and the focal-point rule."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from authorities.models import Authority, AuthorityKind
from authorities.services import create_authority, load_reference_data, set_focal_point

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def countries(db):
    load_reference_data()


def create(capsys, *args) -> str:
    call_command("create_authority", *args)
    return capsys.readouterr().out


GH_FDA = ["--code", "gh-fda", "--country", "GH", "--name", "Food and Drugs Authority", "--email", "pen@fda.example"]


def test_it_creates_a_national_authority_with_its_own_group(countries, capsys):
    out = create(capsys, *GH_FDA, "--phone", "+233 30 223 3200", "--address", "Accra")

    assert "authority gh-fda created" in out
    authority = Authority.objects.get(code="gh-fda")
    assert (authority.name, authority.email, authority.country_id, authority.kind) == (
        "Food and Drugs Authority",
        "pen@fda.example",
        "GH",
        AuthorityKind.NATIONAL,
    )
    assert (authority.phone, authority.address) == ("+233 30 223 3200", "Accra")
    assert authority.group.name == "authority:gh-fda"


def test_a_lowercase_country_code_is_accepted(countries, capsys):
    create(capsys, "--code", "gh-fda", "--country", "gh", "--name", "FDA", "--email", "pen@fda.example")
    assert Authority.objects.get(code="gh-fda").country_id == "GH"


def test_a_second_run_with_the_same_code_changes_nothing(countries, capsys):
    create(capsys, *GH_FDA)
    before = Authority.objects.values().get(code="gh-fda")

    out = create(capsys, *GH_FDA[:-1], "other@fda.example")

    assert "authority gh-fda already exists" in out
    assert Authority.objects.count() == 1
    assert Authority.objects.values().get(code="gh-fda") == before


def test_an_unknown_country_is_refused(countries):
    with pytest.raises(CommandError, match="Unknown country code XX"):
        call_command("create_authority", "--code", "xx-a", "--country", "XX", "--name", "A", "--email", "a@x.example")
    assert not Authority.objects.exists()


def test_an_existing_code_with_another_country_is_refused(countries, capsys):
    create(capsys, *GH_FDA)
    with pytest.raises(CommandError, match="gh-fda already exists for Ghana"):
        call_command("create_authority", "--code", "gh-fda", "--country", "NG", "--name", "A", "--email", "a@x.example")
    assert Authority.objects.get(code="gh-fda").country_id == "GH"
    assert Authority.objects.count() == 1


def test_an_existing_national_code_cannot_become_the_incb(countries, capsys):
    create(capsys, *GH_FDA)
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_authority", "--code", "gh-fda", "--incb", "--name", "INCB", "--email", "incb@x.example")
    assert Authority.objects.get(code="gh-fda").kind == AuthorityKind.NATIONAL


def test_an_invalid_email_is_refused(countries):
    with pytest.raises(CommandError, match="e-mail|email"):
        call_command(
            "create_authority", "--code", "gh-a", "--country", "GH", "--name", "A", "--email", "not-an-address"
        )
    assert not Authority.objects.exists()


def test_incb_creates_the_secretariat_without_a_country(countries, capsys):
    out = create(capsys, "--code", "incb", "--incb", "--name", "INCB secretariat", "--email", "incb@x.example")

    assert "authority incb created" in out
    incb = Authority.objects.get(code="incb")
    assert (incb.kind, incb.country_id, incb.is_focal_point) == (AuthorityKind.INCB, None, False)
    # Idempotent too.
    create(capsys, "--code", "incb", "--incb", "--name", "INCB secretariat", "--email", "incb@x.example")
    assert Authority.objects.filter(kind=AuthorityKind.INCB).count() == 1


def test_country_and_incb_together_are_refused_by_the_parser(countries):
    with pytest.raises(CommandError):
        call_command(
            "create_authority", "--code", "x", "--country", "GH", "--incb", "--name", "X", "--email", "x@x.example"
        )
    assert not Authority.objects.exists()


def test_the_first_authority_of_a_country_is_its_focal_point_and_a_second_is_not(countries, capsys):
    create(capsys, *GH_FDA)
    create(capsys, "--code", "gh-narcotics", "--country", "GH", "--name", "NACOB", "--email", "n@x.example")
    create(capsys, "--code", "ng-nafdac", "--country", "NG", "--name", "NAFDAC", "--email", "ng@x.example")

    focal = dict(Authority.objects.values_list("code", "is_focal_point"))
    assert focal == {"gh-fda": True, "gh-narcotics": False, "ng-nafdac": True}


def test_set_focal_point_moves_it_and_keeps_exactly_one_per_country(countries):
    fda = create_authority(code="gh-fda", name="FDA", email="a@x.example", country_code="GH")[0]
    nacob = create_authority(code="gh-nacob", name="NACOB", email="b@x.example", country_code="GH")[0]
    nafdac = create_authority(code="ng-nafdac", name="NAFDAC", email="c@x.example", country_code="NG")[0]

    set_focal_point(authority=nacob)

    assert list(Authority.objects.filter(country_id="GH", is_focal_point=True)) == [nacob]
    fda.refresh_from_db()
    nafdac.refresh_from_db()
    assert not fda.is_focal_point
    assert nafdac.is_focal_point  # another country is untouched

    set_focal_point(authority=nacob)  # already the focal point: still exactly one
    assert Authority.objects.filter(country_id="GH", is_focal_point=True).count() == 1


def test_the_incb_cannot_be_a_focal_point(countries):
    incb = create_authority(code="incb", name="INCB", email="incb@x.example", incb=True)[0]
    with pytest.raises(ValidationError):
        set_focal_point(authority=incb)
    incb.refresh_from_db()
    assert not incb.is_focal_point


def test_the_command_exits_non_zero_with_a_message_for_an_operator_script(tmp_path):
    """Run as an operator would: a fresh SQLite database, a real process, its exit code."""
    env = {"PATH": "/usr/bin:/bin", "SQLITE_PATH": str(tmp_path / "db.sqlite3"), "PEN_VAR_DIR": str(tmp_path)}

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert manage("migrate", "--noinput").returncode == 0
    assert manage("load_reference_data").returncode == 0
    args = ["create_authority", "--code", "gh-fda", "--country", "GH", "--name", "FDA", "--email", "a@x.example"]
    first, second = manage(*args), manage(*args)
    assert (first.returncode, second.returncode) == (0, 0)
    assert "already exists" in second.stdout

    unknown = manage("create_authority", "--code", "x", "--country", "XX", "--name", "X", "--email", "x@x.example")
    assert unknown.returncode != 0
    assert "Unknown country code XX" in unknown.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_authorities_of_a_country_agree_on_one_focal_point():
    """Two operators create Brazil's first two authorities at the same moment: both are
    created, and exactly one is the focal point (the country row lock serialises them)."""
    load_reference_data()
    barrier = threading.Barrier(2)
    errors = []

    def create_one(code):
        try:
            barrier.wait(timeout=10)
            create_authority(code=code, name=code, email=f"{code}@x.example", country_code="BR")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_one, args=(code,)) for code in ("br-a", "br-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Authority.objects.filter(country_id="BR").count() == 2
    assert Authority.objects.filter(country_id="BR", is_focal_point=True).count() == 1
