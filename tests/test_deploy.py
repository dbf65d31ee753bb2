"""The production shape: settings that refuse to start without their variables, a clean
`manage.py check --deploy`, and a Dockerfile and docker-compose.yml that run what exists.

No Docker engine runs where the tests run, so the image and the compose file are checked
by reading them, and the commands they run (collectstatic with the build's placeholders,
gunicorn with the health check) are run here, outside a container."""

import ast
import importlib
import importlib.util
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Named here so that a settings change which stops requiring one of them is noticed.
KNOWN_REQUIRED = {"SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL", "REDIS_URL"}


def required_in_production() -> set[str]:
    """The variables settings.py refuses to start without when PEN_ENV=production, read
    from its source: ``env("NAME", ..., required_in_production=True)`` and the explicit
    ``The environment variable NAME is required`` messages."""
    source = (ROOT / "pen_portal" / "settings.py").read_text()
    names = set(re.findall(r'env\(\s*"(\w+)"[^()]*(?:\([^()]*\)[^()]*)*required_in_production=True', source))
    names |= set(re.findall(r"The environment variable (\w+) is required", source))
    return names


# Only these are taken from the test process: the rest of its environment (the test
# settings, DJANGO_ALLOW_ASYNC_UNSAFE set for the browser tests, ...) is not production's.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")


def production_env(**overrides) -> dict[str, str]:
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.update(
        PEN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60)[:60],
        ALLOWED_HOSTS="pen.example.org",
        SITE_URL="https://pen.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/pen_portal",
        REDIS_URL="redis://127.0.0.1:6379/0",
        PYTHONUNBUFFERED="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


# --- Settings -------------------------------------------------------------------------


def test_the_settings_require_the_known_production_variables():
    assert required_in_production() == KNOWN_REQUIRED


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "no issues" in output


@pytest.mark.parametrize("name", sorted(KNOWN_REQUIRED))
def test_a_missing_production_variable_stops_start_up_naming_it(name):
    result = manage("check", env=production_env(**{name: None}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"The environment variable {name} is required when PEN_ENV=production" in result.stderr


def test_a_short_secret_key_is_refused_in_production():
    result = manage("check", env=production_env(SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value of at least 50 characters" in result.stderr


# --- docker-compose.yml ---------------------------------------------------------------


def services():
    return COMPOSE["services"]


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    if command is None:
        return dockerfile_cmd()
    return shlex.split(command) if isinstance(command, str) else list(command)


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_compose_has_the_production_services():
    assert set(services()) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services()["postgres"]["image"].startswith("postgres:16")
    assert services()["redis"]["image"].startswith("redis:")
    for name in APP_SERVICES:
        assert services()[name]["build"] == ".", name


def test_postgres_and_redis_have_health_checks_and_postgres_keeps_its_data_in_a_volume():
    postgres, redis = services()["postgres"], services()["redis"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    data_mounts = [volume for volume in postgres["volumes"] if volume.endswith(":/var/lib/postgresql/data")]
    assert len(data_mounts) == 1
    assert data_mounts[0].split(":")[0] in COMPOSE["volumes"], "a named volume, not a path in the container"


def test_the_app_services_start_after_healthy_services_and_a_completed_migration():
    migrate = services()["migrate"]
    assert migrate["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert str(migrate["restart"]) == "no"
    migrate_command = " ".join(command_of(migrate))
    assert "manage.py migrate" in migrate_command and "manage.py load_reference_data" in migrate_command
    for name in ("web", "worker", "beat"):
        assert services()[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_web_runs_gunicorn_with_a_health_check_on_healthz():
    web = services()["web"]
    assert command_of(web)[0] == "gunicorn"
    assert "pen_portal.wsgi:application" in command_of(web)
    health = web["healthcheck"]["test"]
    assert health[0] == "CMD" and health[1:] == ["python", "bin/healthcheck"]
    assert "/healthz" in (ROOT / "bin" / "healthcheck").read_text()


def test_one_beat_and_no_worker_that_embeds_a_beat():
    beats = [name for name, service in services().items() if "beat" in command_of(service)]
    assert beats == ["beat"]
    assert services()["beat"].get("deploy", {}).get("replicas", 1) == 1
    for name, service in services().items():
        command = command_of(service)
        if "worker" in command:
            assert "-B" not in command and "--beat" not in command, name


def test_every_app_service_runs_in_production_with_every_required_variable():
    example = env_example()
    for name in APP_SERVICES:
        service = services()[name]
        assert service["env_file"] == ".env", name
        provided = dict(example) | {key: str(value) for key, value in service["environment"].items()}
        assert provided.get("PEN_ENV") == "production", name
        missing = required_in_production() - set(provided)
        assert not missing, f"{name} lacks {sorted(missing)}"
    # Addresses of the compose services, not of this machine.
    web_env = services()["web"]["environment"]
    assert "@postgres:5432/" in web_env["DATABASE_URL"]
    assert web_env["REDIS_URL"].startswith("redis://redis:6379/")


def test_the_env_example_holds_no_secret():
    example = env_example()
    for key in ("SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_HOST_PASSWORD"):
        assert example[key] == "", f"{key} must be left for the operator to fill in"
    assert "POSTGRES_PASSWORD" in services()["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_the_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".git", ".venv", "var"):
        assert entry in ignored


# --- Dockerfile -----------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#"))
    )
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_cmd() -> list[str]:
    import json

    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert len(commands) == 1
    return json.loads(commands[0])


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            for assignment in shlex.split(arguments):
                key, _, value = assignment.partition("=")
                env[key] = value
    return env


def test_the_image_is_slim_python_311_run_by_an_unprivileged_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("RUN", "pip install .") in instructions
    assert dockerfile_env()["PEN_ENV"] == "production"


def module_level_names(module: str) -> set[str]:
    """Names a module assigns at its top level, read without importing it (importing the
    WSGI module would start the application)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    } | {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}


def test_the_commands_of_the_image_and_the_services_name_what_exists():
    django_commands = get_commands()
    for name, command in [("Dockerfile CMD", dockerfile_cmd())] + [
        (name, command_of(service)) for name, service in services().items() if name in APP_SERVICES
    ]:
        words = command
        if words[:2] == ["sh", "-c"]:
            words = shlex.split(words[2].replace("&&", " ; "))
        if words[0] == "gunicorn":
            target = next(word for word in words[1:] if not word.startswith("-"))
            module, _, attribute = target.partition(":")
            assert attribute in module_level_names(module), f"{name}: {module} defines no {attribute}"
        elif words[0] == "celery":
            app_module = words[words.index("-A") + 1]
            assert isinstance(find_app(app_module), Celery), name  # as `celery -A` finds it
            assert words[words.index("-A") + 2] in ("worker", "beat"), name
        for index, word in enumerate(words):
            if word == "manage.py":
                assert (ROOT / "manage.py").exists()
                assert words[index + 1] in django_commands, f"{name}: no command {words[index + 1]}"
    assert (ROOT / "bin" / "healthcheck").exists()


def collectstatic_step() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's collectstatic RUN step: its placeholder variables and command."""
    runs = [
        arguments
        for keyword, arguments in dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in arguments
    ]
    assert len(runs) == 1
    words = shlex.split(runs[0].split("&&")[0])
    assignments = {}
    while "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        assignments[key] = value
    return assignments, words


def test_the_image_collects_static_files_with_placeholders_that_are_no_secret(tmp_path):
    assignments, command = collectstatic_step()
    assert set(assignments) >= required_in_production() - set(dockerfile_env())
    assert "placeholder" in assignments["SECRET_KEY"]
    assert command == ["python", "manage.py", "collectstatic", "--no-input"]
    static_root = collect_static_as_the_image_does(tmp_path)
    assert (static_root / "staticfiles.json").exists()


def collect_static_as_the_image_does(tmp_path) -> Path:
    assignments, command = collectstatic_step()
    static_root = tmp_path / "staticfiles"
    env = production_env(**dockerfile_env(), **assignments)
    env.update(STATIC_ROOT=str(static_root), PEN_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return static_root


# --- The web command and its health check, run here -----------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.postgres
def test_gunicorn_serves_the_portal_in_production_and_the_health_check_passes(tmp_path):
    """The web service's command, with static files collected as the image does, behind
    a proxy that terminates TLS: the health check passes, plain HTTP is redirected to
    HTTPS, and the login page and its stylesheet are served."""
    static_root = collect_static_as_the_image_does(tmp_path)
    port = free_port()
    env = production_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        STATIC_ROOT=str(static_root),
        PEN_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
    )
    web = services()["web"]
    command = [word.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for word in command_of(web)]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        healthcheck = [sys.executable, str(ROOT / "bin" / "healthcheck")]
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run(healthcheck, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
            if check.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.5)
        assert check.returncode == 0, check.stderr
        base = f"http://127.0.0.1:{port}"
        proxied = {"Host": "pen.example.org", "X-Forwarded-Proto": "https"}

        plain = requests.get(f"{base}/accounts/login/", headers={"Host": "pen.example.org"}, allow_redirects=False)
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://pen.example.org/accounts/login/"

        login = requests.get(f"{base}/accounts/login/", headers=proxied, allow_redirects=False)
        assert login.status_code == 200
        assert "Strict-Transport-Security" in login.headers
        stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]+\.css)"', login.text)
        assert stylesheet, "the page links the hashed (manifest) name of the stylesheet"
        css = requests.get(base + stylesheet.group(1), headers=proxied)
        assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]

        foreign = requests.get(f"{base}/healthz", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"})
        assert foreign.status_code == 400
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
