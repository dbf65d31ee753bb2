"""The demo: `manage.py seed_demo`, and `./portal run` as a visitor uses it (web, worker
and beat on SQLite and the file-based Celery transport, stopped by Ctrl-C)."""

import io
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import requests
from celery import Celery
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from accounts.models import Role, User
from authorities.models import Authority, AuthorityKind, Country, PeriodKind, ReplyRegime

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = {"DE", "GH", "NL", "IN", "BR", "AU"}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def credentials(output: str) -> list[dict[str, str]]:
    """The rows of the credentials table the command prints."""
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.split()[:2] == ["username", "password"])
    assert set(lines[header + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        username, password, authority, role = re.split(r"\s{2,}", line.strip())
        rows.append({"username": username, "password": password, "authority": authority, "role": role})
    return rows


def snapshot():
    return (
        sorted(Authority.objects.values_list("code", "name", "country_id", "is_focal_point", "email", "phone")),
        sorted(User.objects.values_list("username", "authority__code", "role", "email", "password", "is_active")),
        sorted(Country.objects.filter(code__in=COUNTRIES).values_list("code", "reply_regime", "reply_period_days")),
    )


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_its_printed_credentials_log_in():
    first = seed()
    state = snapshot()
    policy_stamps = dict(Country.objects.filter(code__in=["GH", "AU"]).values_list("code", "policy_updated_at"))
    second = seed()
    assert snapshot() == state, "a second run changes nothing"
    assert dict(Country.objects.filter(code__in=["GH", "AU"]).values_list("code", "policy_updated_at")) == policy_stamps
    assert "already up to date" in second

    rows = credentials(second)
    assert rows == credentials(first)
    assert {row["username"] for row in rows} == set(User.objects.values_list("username", flat=True))
    request = RequestFactory().post("/accounts/login/")
    for row in rows:
        user = authenticate(request, username=row["username"], password=row["password"])
        assert user is not None, row
        assert user.authority.code == row["authority"]
        assert str(Role(user.role).label) == row["role"]
        # The demo password passes the installation's own password rules.
        validate_password(row["password"], user=user)


@pytest.mark.django_db
def test_seed_demo_makes_six_countries_a_second_authority_and_the_incb_with_every_role():
    seed()
    national = Authority.objects.filter(kind=AuthorityKind.NATIONAL)
    assert set(national.values_list("country_id", flat=True)) == COUNTRIES
    # One country has two authorities; exactly one of them is its focal point.
    assert national.count() == len(COUNTRIES) + 1
    assert set(Authority.objects.filter(country_id="DE").values_list("code", "is_focal_point")) == {
        ("de-bopst", True),
        ("de-gues", False),
    }
    assert national.filter(is_focal_point=True).count() == len(COUNTRIES)
    for authority in national:
        assert authority.address and authority.phone and "@" in authority.email
        roles = set(authority.members.values_list("role", flat=True))
        assert roles == {Role.OFFICER, Role.ADMINISTRATOR, Role.VIEWER}, authority.code
    incb = Authority.objects.get(kind=AuthorityKind.INCB)
    assert set(incb.members.values_list("role", flat=True)) == {Role.REVIEWER, Role.ADMINISTRATOR}
    assert not User.objects.filter(is_superuser=True).exists()

    policies = {country.code: country for country in Country.objects.filter(code__in=["GH", "AU"])}
    assert (policies["GH"].reply_regime, policies["GH"].reply_period_days, policies["GH"].reply_period_kind) == (
        ReplyRegime.TACIT_CONSENT,
        10,
        PeriodKind.WORKING,
    )
    assert (policies["AU"].reply_regime, policies["AU"].reply_period_days, policies["AU"].reply_period_kind) == (
        ReplyRegime.TACIT_CONSENT,
        5,
        PeriodKind.WORKING,
    )


@pytest.mark.django_db
def test_seed_demo_restores_a_demo_user_that_was_changed():
    rows = credentials(seed())
    officer = User.objects.get(username=rows[0]["username"])
    officer.set_password("changed by the visitor 123")
    officer.is_active = False
    officer.save()
    output = seed()
    assert "1 updated" in output
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username=rows[0]["username"], password=rows[0]["password"]) == officer


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert not User.objects.exists()


# --- ./portal run ---------------------------------------------------------------------

# Adds a beat entry every second, so the test sees beat -> broker -> worker work.
SMOKE_SETTINGS = textwrap.dedent(
    """
    from pen_portal.settings import *  # noqa: F403

    CELERY_PERIODIC_TASKS = {**CELERY_PERIODIC_TASKS, "smoke-ping": ("pen_portal.ping", 1.0)}  # noqa: F405
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (the test's own PEN_VAR_DIR)."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_portal_run_serves_the_demo_runs_worker_and_beat_and_stops_on_ctrl_c(tmp_path):
    var = tmp_path / "var"
    (tmp_path / "smoke_settings.py").write_text(SMOKE_SETTINGS)
    port = free_port()
    # The demo's own stack (SQLite, file-based transport), whatever the test run uses.
    dropped = {"DATABASE_URL", "REDIS_URL", "PORT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        PEN_VAR_DIR=str(var),
        PORT=str(port),
        DJANGO_SETTINGS_MODULE="smoke_settings",
        PYTHONPATH=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    marker = f"PEN_VAR_DIR={var}"
    log_path = tmp_path / "portal.log"
    with log_path.open("w") as log:
        portal = subprocess.Popen(
            [str(ROOT / "portal"), "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text():
        return log_path.read_text(errors="replace")

    base = f"http://127.0.0.1:{port}"
    try:

        def login_page():
            if portal.poll() is not None:
                raise AssertionError(f"./portal run exited with {portal.returncode}:\n{log_text()}")
            try:
                return requests.get(f"{base}/accounts/login/", timeout=5)
            except requests.ConnectionError:
                return None

        page = wait_for(login_page, 180, "the login page")
        assert page.status_code == 200
        output = log_text()
        assert f"http://127.0.0.1:{port}/accounts/login/" in output

        # A visitor logs in with credentials the run printed.
        row = credentials(output)[0]
        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=10)
        response = session.post(
            f"{base}/accounts/login/",
            data={
                "username": row["username"],
                "password": row["password"],
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:2000]
        assert "/accounts/login/" not in response.headers["Location"]
        assert "sessionid" in session.cookies

        # Issue 18, defect 7: the links in the demo's e-mails point at the port it serves
        # on, not 8000: the worker's (the seeded notifications' messages, sent over the
        # transport) and the web server's (an invitation an administrator sends).
        link = f"Open the notification: {base}/notifications/"
        wait_for(lambda: link in log_text(), 60, f"an e-mail with a link to port {port}\n{log_text()[-3000:]}")
        admin = next(r for r in credentials(output) if r["role"] == "Administrator" and r["authority"] != "incb")
        inviter = requests.Session()
        inviter.get(f"{base}/accounts/login/", timeout=10)
        inviter.post(
            f"{base}/accounts/login/",
            data={
                "username": admin["username"],
                "password": admin["password"],
                "csrfmiddlewaretoken": inviter.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=10,
        )
        invited = inviter.post(
            f"{base}/accounts/users/invite/",
            data={
                "email": "new.officer@example.org",
                "role": "officer",
                "csrfmiddlewaretoken": inviter.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/users/invite/"},
            allow_redirects=False,
            timeout=10,
        )
        assert invited.status_code == 302, invited.text[:2000]
        invitation = f"{base}/accounts/invitation/"
        wait_for(lambda: invitation in log_text(), 30, f"the invitation e-mail\n{log_text()[-3000:]}")
        assert "127.0.0.1:8000" not in log_text()

        # Beat schedules, the worker consumes over the file-based transport...
        pings = var / "celery-ping"
        wait_for(lambda: (pings / "ping").exists(), 60, f"a beat-scheduled ping\n{log_text()}")
        # ...and so it does what another process sends through that transport.
        sender = Celery(
            "probe",
            broker="filesystem://",
            broker_transport_options={
                "data_folder_in": str(var / "celery-queue"),
                "data_folder_out": str(var / "celery-queue"),
            },
        )
        with sender.connection_for_write() as connection:
            sender.send_task("pen_portal.ping", args=["from-the-test"], connection=connection)
        wait_for(lambda: (pings / "from-the-test").exists(), 60, f"the sent ping\n{log_text()}")

        commands = {pid: cmdline(pid) for pid in processes_with(marker)}
        for probe in ("manage.py runserver", "celery -A pen_portal worker", "celery -A pen_portal beat"):
            assert any(probe in command for command in commands.values()), (probe, commands)
    finally:
        # Ctrl-C: SIGINT to honcho, which the portal script became (exec).
        if portal.poll() is None:
            os.kill(portal.pid, signal.SIGINT)
        try:
            portal.wait(timeout=60)
        except subprocess.TimeoutExpired:
            portal.kill()
            portal.wait()
        deadline = time.monotonic() + 30
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        leftovers = {pid: cmdline(pid) for pid in processes_with(marker)}
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
    assert leftovers == {}, "Ctrl-C stops every process"
    output = log_text()
    assert "SIGINT received" in output
    for name in ("web.1", "worker.1", "beat.1"):
        assert f"{name} stopped" in output, output[-3000:]
