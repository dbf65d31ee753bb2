"""The schema through three independent linters, as an integrator's tooling would read it
(issue 19): openapi-spec-validator (the OpenAPI 3 specification itself), Redocly's
recommended rules and Spectral's ``spectral:oas``. Errors fail; the configurations
(redocly.yaml, .spectral.yaml) switch off only the trailing-slash rule, with the reason.

The Node linters are pinned in package.json and installed by ``./portal test``."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock():  # generating the schema reads no rows
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    path.write_bytes(response.content)
    return path


def _node_tool(name):
    tool = BIN / name
    if not tool.exists() or not shutil.which("node"):
        pytest.skip(f"{name} is not installed (./portal test runs npm ci)")
    return tool


def test_the_schema_is_valid_openapi(schema_file):
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(str(schema_file))
    validate(spec)  # raises on the first violation


def test_redocly_finds_no_error(schema_file):
    tool = _node_tool("redocly")
    done = subprocess.run(
        [str(tool), "lint", str(schema_file), "--config", str(ROOT / "redocly.yaml"), "--format", "json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    report = json.loads(done.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    assert report["totals"]["errors"] == 0


def test_spectral_finds_no_error(schema_file, tmp_path):
    tool = _node_tool("spectral")
    out = tmp_path / "spectral.json"
    subprocess.run(
        [str(tool), "lint", str(schema_file), "--ruleset", str(ROOT / ".spectral.yaml"),
         "--format", "json", "--output", str(out), "--fail-severity", "error", "--quiet"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    problems = json.loads(out.read_text())
    errors = [p for p in problems if p["severity"] == 0]  # 0 is "error" in Spectral's JSON
    assert not errors, json.dumps(errors, indent=1)[:4000]


def test_every_operation_lists_the_errors_the_framework_can_answer(schema_file):
    """401, 403, 406 and 429 on every operation; 400, 413 and 415 wherever a body is sent;
    404 on every cursor-paginated list; the token endpoint with its OAuth errors."""
    spec = json.loads(schema_file.read_text())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "429"} <= codes, (method, path)
            if "requestBody" in operation and path != "/oauth/token/":
                assert {"400", "413", "415"} <= codes, (method, path)
                # JSON only, where only JSON works; multipart only for the attachment upload.
                upload = (method, path) == ("post", "/api/v1/notifications/{reference}/attachments/")
                media = ["multipart/form-data"] if upload else ["application/json"]
                assert list(operation["requestBody"]["content"]) == media, (method, path)
            if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
                assert "404" in codes, (method, path)
    token = spec["paths"]["/oauth/token/"]["post"]
    assert list(token["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    assert token["responses"]["401"]["content"]["application/json"]["example"] == {"error": "invalid_client"}
    assert spec["servers"] and spec["info"]["contact"] and spec["info"]["license"]["name"]
