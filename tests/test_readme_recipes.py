"""The README's recipes for integrating a licensing system run as written (issue 19): the
```sh blocks of its section "Integrating a national licensing system", in order, in one
bash, against a live demo started as the README starts it (``./portal run``)."""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.test_demo import cmdline, free_port, processes_with, wait_for

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## Integrating a national licensing system"
# An HTML comment (invisible on GitHub) right before a block the test must not run.
NOT_RUN = "<!-- not run by tests/test_readme_recipes.py"


def recipe_blocks(text: str) -> list[str]:
    """The ```sh blocks of the integration section, in order, but those right after a
    NOT_RUN line."""
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = []
    for match in re.finditer(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL):
        line_before = section[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if not line_before.startswith(NOT_RUN):
            blocks.append(match.group(1))
    return blocks


def curl_commands(script: str) -> list[str]:
    """Every curl command of the script, its continuation lines joined, up to its pipe."""
    joined = script.replace("\\\n", " ")
    return [match.group(0).split(" | ")[0] for match in re.finditer(r"curl [^\n]*", joined)]


def test_the_recipes_send_an_idempotency_key_with_every_post_and_fail_on_an_error_status():
    script = "".join(recipe_blocks(README.read_text()))
    commands = curl_commands(script)
    assert len(commands) >= 15, commands
    posts = [command for command in commands if re.search(r" (-d|--data\S*|-X POST) ", command)]
    assert len(posts) >= 9, posts
    for command in posts:
        if "/oauth/token/" not in command:  # OAuth's own request, which takes no key
            assert "Idempotency-Key" in command, command
    for command in commands:
        if "$BASE" in command:  # every request to the portal (not the wait for the local receiver)
            assert "--fail-with-body" in command, command
    # Nothing names a seeded demo notification or a webhook by a literal number.
    assert not re.search(r"\bREF=[A-Z]{2}-\d{4}-\d+", script)
    assert not re.search(r"/webhooks/\d+/", script)


# --- against the live demo -------------------------------------------------------------

# What the recipes make the server answer, in this order (other requests in between):
# the runserver log's `"METHOD PATH HTTP/1.1" STATUS`.
EXPECTED = [
    ("POST", "/oauth/token/", 200),
    ("GET", "/api/v1/substances/?schedule=table_i", 200),
    ("GET", "/api/v1/countries/GH/", 200),
    ("POST", "/api/v1/notifications/", 201),
    ("POST", "/api/v1/notifications/", 201),  # the retry, replayed
    ("GET", "/api/v1/notifications/{REF}/", 200),
    ("POST", "/oauth/token/", 200),
    ("POST", "/api/v1/notifications/{REF}/acknowledge/", 200),
    ("POST", "/api/v1/notifications/{REF}/respond/", 200),
    ("POST", "/api/v1/notifications/{REF}/provide_information/", 200),
    ("POST", "/api/v1/notifications/{REF}/respond/", 200),
    ("POST", "/api/v1/webhooks/", 201),
    ("GET", "/api/v1/webhooks/{HOOK_ID}/deliveries/", 200),
    ("POST", "/api/v1/webhooks/", 201),
    ("POST", "/api/v1/notifications/", 201),
    ("GET", "/api/v1/webhooks/{LOCAL_ID}/deliveries/", 200),
    ("DELETE", "/api/v1/webhooks/{LOCAL_ID}/", 204),
]
REQUEST_LINE = re.compile(r'^\S+ web\.1\s+\| \[[^\]]+\] "(\w+) (\S+) HTTP/[\d.]+" (\d{3}) ', re.MULTILINE)
# Printed after the recipes, for the checks.
EPILOGUE = """
for name in REF NEW HOOK_ID LOCAL_ID DE_TOKEN GH_TOKEN; do printf '::%s=%s\\n' "$name" "${!name}"; done
"""


def register_other_endpoint(base: str, env: dict) -> str:
    """A webhook endpoint of the Dutch authority, registered as the README does, with the
    command's default output (client_id=..., client_secret=...); returns its id."""
    printed = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "create_api_client", "--authority", "nl-cibg", "--name", "NL"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    credentials = dict(line.split("=", 1) for line in printed.splitlines())
    token = requests.post(
        f"{base}/oauth/token/",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    response = requests.post(
        f"{base}/api/v1/webhooks/",
        json={"url": "https://licensing.nl.example/pen"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}", "Idempotency-Key": "other-endpoint"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def is_subsequence(expected, seen) -> bool:
    remaining = iter(seen)
    return all(any(entry == candidate for candidate in remaining) for entry in expected)


def stop_group(process: subprocess.Popen, marker: str | None = None):
    """SIGINT to the process group (Ctrl-C), then SIGKILL to whatever is left of it. honcho
    starts each of web, worker and beat in a session of its own (and stops them when it gets
    SIGINT), so those left over are found by ``marker`` in their environment."""
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their leader
    except ProcessLookupError:
        pass
    if marker is not None:
        deadline = time.monotonic() + 10
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("curl")), reason="the README's recipes need curl and jq")
def test_the_integration_recipes_run_as_written_against_the_demo(tmp_path):
    var = tmp_path / "var"
    port, receiver_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    # The demo's own stack (SQLite and the file-based transport under its own PEN_VAR_DIR),
    # whatever the test run uses; SITE_URL is what ./portal run derives from PORT.
    dropped = {
        "DATABASE_URL",
        "REDIS_URL",
        "PORT",
        "SITE_URL",
        "SQLITE_PATH",
        "PRIVATE_MEDIA_ROOT",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "PEN_ENV",
        "BASE",
    }
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(PEN_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    marker = f"PEN_VAR_DIR={var}"
    log_path = tmp_path / "portal.log"

    def log_text():
        return log_path.read_text(errors="replace")

    # As the README says for trying webhooks with a receiver on this machine.
    demo_env = {**env, "PORT": str(port), "WEBHOOK_ALLOW_INSECURE_URLS": "1"}
    with log_path.open("w") as log:
        portal = subprocess.Popen(
            [str(ROOT / "portal"), "run"],
            cwd=ROOT,
            env=demo_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    recipes = None
    try:

        def login_page():
            if portal.poll() is not None:
                raise AssertionError(f"./portal run exited with {portal.returncode}:\n{log_text()}")
            try:
                return requests.get(f"{base}/accounts/login/", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(login_page, 120, "the demo's login page")
        database = var / "pen_portal.sqlite3"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            seeded = dict(connection.execute("SELECT reference, national_reference FROM notifications_notification"))
        assert seeded, "the demo seeded notifications"
        # An endpoint of another authority first, so that the recipe's ids are not 1: a
        # literal /webhooks/1/ in the README would be someone else's (404).
        other_hook = register_other_endpoint(base, env)

        script = "".join(recipe_blocks(README.read_text())) + EPILOGUE
        (tmp_path / "recipes.sh").write_text(script)
        log_start = len(log_text())
        # In the clone's folder, as the README says; the shell sees the demo's PEN_VAR_DIR,
        # as a second terminal of the same checkout would see its var/.
        recipes = subprocess.Popen(
            ["bash", "-euo", "pipefail", str(tmp_path / "recipes.sh")],
            cwd=ROOT,
            env={**env, "BASE": base, "RECEIVER_PORT": str(receiver_port)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = recipes.communicate(timeout=75)
        except subprocess.TimeoutExpired:
            stop_group(recipes)
            output, _ = recipes.communicate()
            raise AssertionError(
                f"the recipes did not finish:\n{output}\n--- demo log ---\n{log_text()[-4000:]}"
            ) from None

        def requests_seen():
            return [(method, path, int(code)) for method, path, code in REQUEST_LINE.findall(log_text()[log_start:])]

        def report():
            return f"--- the recipes' output ---\n{output}\n--- requests ---\n" + "\n".join(map(str, requests_seen()))

        assert recipes.returncode == 0, f"the recipes failed (exit {recipes.returncode})\n{report()}"

        values = dict(re.findall(r"^::(\w+)=(.*)$", output, re.MULTILINE))
        ref, new, hook_id, local_id = values["REF"], values["NEW"], values["HOOK_ID"], values["LOCAL_ID"]

        # Every request answered as the README implies, in the recipes' order (the server
        # logs a request just after answering it, so the last lines may lag); none failed.
        expected = [
            (method, path.format(REF=ref, HOOK_ID=hook_id, LOCAL_ID=local_id), code) for method, path, code in EXPECTED
        ]
        try:
            wait_for(lambda: is_subsequence(expected, requests_seen()), 10, "the requests in the server's log")
        except AssertionError:
            pass
        assert is_subsequence(expected, requests_seen()), report()
        assert all(code < 400 for _method, _path, code in requests_seen()), report()

        # The notification the recipe filed, not a seeded one, ended as the recipe says.
        assert re.fullmatch(r"DE-\d{4}-\d{6}", ref), report()
        assert ref not in seeded, report()
        de = {"Authorization": f"Bearer {values['DE_TOKEN']}"}
        gh = {"Authorization": f"Bearer {values['GH_TOKEN']}"}
        notification = requests.get(f"{base}/api/v1/notifications/{ref}/", headers=de, timeout=10).json()
        assert notification["status"] == "no_objection", f"{notification}\n{report()}"
        assert notification["national_reference"] not in seeded.values()
        # Links point at the port the demo runs on (./portal run's SITE_URL).
        assert notification["url"] == f"{base}/api/v1/notifications/{ref}/", notification["url"]
        # The retry was a replay: one notification with that national reference.
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM notifications_notification WHERE national_reference = ?",
                [notification["national_reference"]],
            ).fetchone()
        assert count == 1
        assert re.search(r"^idempotent-replayed: true", output, re.IGNORECASE | re.MULTILINE), report()
        assert re.search(r"^HTTP/[\d.]+ 201", output, re.MULTILINE), report()

        # The webhook ids used are those the registrations answered.
        endpoints = {str(e["id"]): e for e in requests.get(f"{base}/api/v1/webhooks/", headers=gh, timeout=10).json()}
        assert hook_id in endpoints, report()
        assert endpoints[hook_id]["url"] == "https://licensing.gh.example/pen-events"
        assert local_id not in endpoints, "the recipe deletes its local endpoint at the end"
        assert other_hook not in (hook_id, local_id)

        # The receiver got the second filing's (NEW) arrival, signature checked, its link on the
        # demo's port. (It may also get events of REF the worker had not dispatched yet when
        # the endpoint was registered: endpoints are chosen when a message is dispatched.)
        arrivals = [
            json.loads(body)
            for body in re.findall(r"^notification\.received signature ok (\{.*\})$", output, re.MULTILINE)
        ]
        assert "BAD SIGNATURE" not in output, report()
        assert new not in seeded and new != ref, report()
        assert new in [arrival["reference"] for arrival in arrivals], report()
        for arrival in arrivals:
            assert arrival["url"] == f"{base}/api/v1/notifications/{arrival['reference']}/", arrival
    finally:
        if recipes is not None:
            stop_group(recipes)  # the receiver, should the recipes have stopped before killing it
        stop_group(portal, marker)
    leftovers = {pid: cmdline(pid) for pid in processes_with(marker)}
    assert leftovers == {}, "the demo's processes all stopped"
