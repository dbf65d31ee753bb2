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


# What a TypeScript integrator writes against the types openapi-typescript generates. It
# must compile under --strict, and every @ts-expect-error line must be a real error: types
# too loose (an `any`, a body typed as an open object) fail the check as surely as wrong ones.
TYPESCRIPT_EXCHANGE = """
import type { components, paths } from "./schema";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Collection = paths["/api/v1/notifications/"];
type One = paths["/api/v1/notifications/{reference}/"];
type FileBody = Json<Collection["post"]["requestBody"]>;
type Filed = Json<Collection["post"]["responses"][201]>;
type Page = Json<Collection["get"]["responses"][200]>;
type DraftPatch = Json<NonNullable<One["patch"]["requestBody"]>>;
type Reply = Json<paths["/api/v1/notifications/{reference}/respond/"]["post"]["requestBody"]>;
type Upload = NonNullable<
  paths["/api/v1/notifications/{reference}/attachments/"]["post"]["requestBody"]
>["content"]["multipart/form-data"];
type Problem = Json<Collection["post"]["responses"][409]>;
type Notification = components["schemas"]["Notification"];

export const body: FileBody = {
  national_reference: "EXP-2026-0042",
  importing_country: "GH",
  transit_countries: ["NL"],
  exporter: { name: "Chemie Export GmbH", address: "Industriestr. 1, Hamburg" },
  importer: { name: "Accra Pharma Ltd", address: "12 Ring Road, Accra" },
  items: [{ substance: "ephedrine", quantity: "250.000", unit: "kg", packages: "10 drums" }],
  shipment: { mode_of_transport: "sea", point_of_exit: "Hamburg", point_of_entry: "Tema",
              expected_dispatch: "2026-12-20" },
  end_use: "Manufacture of cough syrup",
};
export const patch: DraftPatch = { importer: { address: "14 Ring Road, Accra" } };
export const reply: Reply = { decision: "information_requested", comment: "Which products?" };

export function nextCursor(page: Page): string | null {
  const next = page.next;
  return next ? new URL(next).searchParams.get("cursor") : null;
}
export function isOpen(filed: Filed): boolean {
  const status: Notification["status"] = filed.status;
  return status === "awaiting_reply" || status === "information_requested";
}
export function summary(page: Page): string[] {
  return page.results.map((row) => `${row.reference} ${row.status} ${row.overdue ? "overdue" : ""}`);
}
export function problem(error: Problem): string {
  return error.detail;
}
export function upload(form: Upload): unknown {
  return form.file;
}

// @ts-expect-error a decision the API does not know
export const unknownDecision: Reply = { decision: "maybe", comment: "" };
// @ts-expect-error an item needs its unit
export const noUnit: FileBody["items"][number] = { substance: "ephedrine", quantity: "1" };
// @ts-expect-error the status is one of the listed values
export const notAStatus: Notification["status"] = "pending";
// @ts-expect-error a filing has no field of that name
export const typo: FileBody = { ...body, importing_contry: "GH" };
"""


def test_a_typescript_client_type_checks_strictly(schema_file, tmp_path):
    """openapi-typescript's types from the live schema, and a licensing system's code
    written against them, through ``tsc --strict`` (issue 19's TypeScript check)."""
    generator, compiler = _node_tool("openapi-typescript"), _node_tool("tsc")
    types = tmp_path / "schema.d.ts"
    done = subprocess.run(
        # --default-non-nullable false: openapi-typescript 7 otherwise makes every field
        # with a default required, in request bodies too (docs/api.md says so to integrators).
        [str(generator), str(schema_file), "--output", str(types), "--default-non-nullable", "false"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    exchange = tmp_path / "exchange.ts"
    exchange.write_text(TYPESCRIPT_EXCHANGE)
    checked = subprocess.run(
        [str(compiler), "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
         "--moduleResolution", "bundler", "--lib", "es2022,dom", str(exchange)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
