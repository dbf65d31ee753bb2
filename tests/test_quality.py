"""Repository-wide checks that keep the definition of done honest."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    # Raises SystemExit(1) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_import_contracts_hold():
    """The layers and the no-cycle rule of docs/architecture.md (pyproject.toml's
    [tool.importlinter]): an upward import or a circle between modules fails here."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


APPS = [
    "pen_portal",
    "demo",
    "timeliness",
    "chasing",
    "monitoring",
    "incidents",
    "notifications",
    "messaging",
    "accounts",
    "authorities",
    "api",
    "web",
]


def test_every_app_says_what_it_owns_and_is_in_the_contracts():
    import importlib
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(config["root_packages"]) == sorted(APPS)
    on_disk = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"})
    assert on_disk == sorted(APPS), "a new app must join the import contracts (pyproject.toml)"
    for name in APPS:
        doc = importlib.import_module(name).__doc__
        assert doc and len(doc.split()) >= 8, f"{name}/__init__.py must say in a sentence what the app owns"


def test_no_module_is_named_after_another_capability():
    """A module named ``timeliness_views`` in notifications/ is a missing app: no module
    of one app starts with another app's name (or a capability's) and an underscore."""
    capabilities = {*APPS, "notification", "followup", "webhook", "outbox", "idempotency", "scale", "stats"}
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        and "_" in path.stem.strip("_")
        and path.stem.split("_")[0] in capabilities - {app, app.rstrip("s")}
    ]
    assert offenders == []
