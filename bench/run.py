#!/usr/bin/env python
"""The scale benchmark of issue 7, against a database seeded by ``manage.py seed_scale``.
Not a test (timings on a shared machine are not assertions): run it by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pen_bench .venv/bin/python bench/run.py

It starts gunicorn (2 workers, DEBUG off) on a free port, gets OAuth tokens for API clients
it creates (accounts.services.create_api_client), logs officers in with a session, measures
each row of the issue's table, prints the table and writes bench/results/run-<time>.json.
A row whose endpoint does not exist (yet) is reported as "not available". The chase sweep
runs bench/chase_sweep.py on this database and on --small-database-url (if it exists), to
show that its memory does not grow with N. Filings made by the benchmark stay in the
database (a few hundred notifications); everything else it adds is removed."""

import argparse
import base64
import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

PASSWORD = "bench-only-password-7f3a9c"  # noqa: S105 - set on seeded officers of the bench database
TARGETS = {
    "api_list": ("API list: an importing authority's awaiting-reply notifications, page of 50", "p95 ≤ 50 ms"),
    "api_list_raw": ("the same query as raw SQL, in the same run (app / raw)", "app / raw ≤ 3"),
    "api_detail": ("API detail with items, events, replies", "p95 ≤ 30 ms"),
    "filing": ("filing: POST with 4 concurrent clients", "≥ 150 per second"),
    "sweep": ("chase sweep: 10,000 due among N", "≤ 10 s, peak memory flat in N"),
    "timeliness_page": ("timeliness review: one year, all countries (page)", "≤ 500 ms"),
    "timeliness_api": ("timeliness review: one year, all countries (API)", "≤ 500 ms"),
    "dashboard": ("dashboard page of a busy authority", "p95 ≤ 150 ms"),
    "worker_rss": ("a web worker's memory after the run", "≤ 200 MB RSS"),
}


class NotAvailable(Exception):
    """The endpoint does not exist (yet)."""


def exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def timed(session, method, url, *, expect=200, **kwargs) -> float:
    started = time.perf_counter()
    response = session.request(method, url, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed


def repeat(session, url, n: int, warmup: int, **kwargs) -> list[float]:
    for _ in range(warmup):
        timed(session, "GET", url, **kwargs)
    return [timed(session, "GET", url, **kwargs) for _ in range(n)]


# --- the cast ------------------------------------------------------------------------------


def pick_cast() -> dict:
    """The busiest importer (most awaiting-reply notifications), the busiest exporter, the
    next three exporters (filing clients), INCB."""
    from django.db import connection

    from accounts.models import User
    from authorities.models import Authority

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT importing_country_id FROM notifications_notification WHERE status = 'awaiting_reply' "
            "GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"
        )
        importer = cursor.fetchone()[0]
        cursor.execute(
            "SELECT exporting_country_id FROM notifications_notification GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 4"
        )
        exporters = [row[0] for row in cursor.fetchall()]
    focal = {
        a.country_id: a for a in Authority.objects.filter(is_focal_point=True, country_id__in=[importer, *exporters])
    }
    incb = Authority.objects.get(kind="incb", code="incb")

    def officer(authority, role="officer"):
        user = User.objects.filter(authority=authority, role=role, is_machine=False, is_active=True).order_by("pk")[0]
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        return user

    return {
        "importer": focal[importer],
        "exporters": [focal[code] for code in exporters],
        "busy": focal[exporters[0]],
        "busy_officer": officer(focal[exporters[0]]),
        "incb": incb,
        "incb_reviewer": officer(incb, role="reviewer"),
    }


def token(base_url: str, authority, scopes=None) -> str:
    import requests

    from accounts.services import create_api_client

    _client, client_id, secret = create_api_client(
        authority=authority, name=f"bench {datetime.now(UTC):%Y-%m-%d %H:%M:%S}", scopes=scopes
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = requests.post(
        base_url + "/oauth/token/",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    response.raise_for_status()
    return response.json()["access_token"]


def login(base_url: str, username: str):
    import requests

    session = requests.Session()
    session.get(base_url + "/accounts/login/").raise_for_status()
    response = session.post(
        base_url + "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {response.status_code}")
    return session


# --- the rows ------------------------------------------------------------------------------

LIST_PATH = "/api/v1/notifications/?role=importing&status=awaiting_reply&page_size=50"


def api_list(base_url, bearer, n, warmup) -> dict:
    import requests

    if not exists(LIST_PATH):
        raise NotAvailable
    session = requests.Session()
    session.headers.update(bearer)
    return common.summary_ms(repeat(session, base_url + LIST_PATH, n, warmup))


def api_list_raw(bearer, n, warmup) -> dict:
    """The list's own SQL (captured from the same request in this process), timed through
    a plain cursor: execute and fetch every row."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if not exists(LIST_PATH):
        raise NotAvailable
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(LIST_PATH, HTTP_AUTHORIZATION=bearer["Authorization"])
    assert response.status_code == 200, response.content[:300]
    candidates = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "notifications_notification"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    sql = max(candidates, key=len)
    samples = []
    with connection.cursor() as cursor:
        for i in range(warmup + n):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            if i >= warmup:
                samples.append(time.perf_counter() - started)
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return {
        **common.summary_ms(samples),
        "queries_per_request": len(captured.captured_queries),
        "sql": sql,
        "plan": plan,
    }


def api_detail(base_url, bearer, n, warmup) -> dict:
    import requests

    session = requests.Session()
    session.headers.update(bearer)
    references = []
    for status in ("no_objection", "awaiting_reply", "objection"):
        page = session.get(base_url + f"/api/v1/notifications/?role=importing&status={status}&page_size=20")
        page.raise_for_status()
        references += [row["reference"] for row in page.json()["results"]]
    if not references or not exists(f"/api/v1/notifications/{references[0]}/"):
        raise NotAvailable
    urls = [base_url + f"/api/v1/notifications/{ref}/" for ref in references]
    for url in urls[:warmup]:
        timed(session, "GET", url)
    samples = [timed(session, "GET", urls[i % len(urls)]) for i in range(n)]
    body = session.get(urls[0]).json()
    return {
        **common.summary_ms(samples),
        "example": {key: len(body.get(key) or []) for key in ("items", "events", "responses")},
    }


def filing_body(exporting: str, importing: str, today) -> dict:
    return {
        "national_reference": f"BENCH-{uuid.uuid4().hex[:8]}",
        "importing_country": importing,
        "transit_countries": [],
        "exporter": {"name": "Bench Chemicals", "address": "1 Industrial Road\nBench City", "licence_number": "B-1"},
        "importer": {"name": "Importer Ltd", "address": "2 Harbour Street\nPort City", "licence_number": "I-2"},
        "items": [
            {"substance": "acetone", "quantity": "8000.000", "unit": "l", "packages": "40 drums"},
            {"substance": "toluene", "quantity": "5000.000", "unit": "l", "packages": "25 drums"},
        ],
        "shipment": {
            "mode_of_transport": "sea",
            "point_of_exit": "Hamburg",
            "point_of_entry": "Manzanillo",
            "expected_dispatch": (today + timedelta(days=20)).isoformat(),
        },
        "end_use": "Solvent for paints and coatings",
    }


def filing(base_url, tokens: dict, importers: list[str], per_client: int) -> dict:
    """4 licensing systems (four exporting authorities, so no two share a reference
    counter) each POST ``per_client`` notifications with an Idempotency-Key, at once."""
    import requests

    if not exists("/api/v1/notifications/"):
        raise NotAvailable
    today = datetime.now(UTC).date()
    errors, latencies, lock = [], [], threading.Lock()
    barrier = threading.Barrier(len(tokens) + 1)

    def client(exporting, bearer_token):
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {bearer_token}"})
        targets = [code for code in importers if code != exporting]
        # Warm the connection and the worker before the clock starts.
        session.get(base_url + "/api/v1/notifications/?page_size=1").raise_for_status()
        barrier.wait()
        for i in range(per_client):
            body = filing_body(exporting, targets[i % len(targets)], today)
            started = time.perf_counter()
            response = session.post(
                base_url + "/api/v1/notifications/", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 201:
                    errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=item) for item in tokens.items()]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    created = len(latencies) - len(errors)
    return {
        "per_second": round(created / wall, 1),
        "created": created,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 2),
        "latency": common.summary_ms(latencies),
    }


def page(base_url, session, path, n, warmup) -> dict:
    if not exists(path):
        raise NotAvailable
    result = common.summary_ms(repeat(session, base_url + path, n, warmup))
    return result


def sweep(database_url: str, due: int) -> dict:
    run = subprocess.run(
        [common.PYTHON, str(Path(__file__).parent / "chase_sweep.py"), "--json", "--due", str(due)],
        env=common.bench_env(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:] or run.stdout[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def database_exists(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError:
        return False
    return True


# --- the report ----------------------------------------------------------------------------


def verdict(key, value) -> tuple[str, str]:
    """(measured, met?) for the table."""
    if value.get("status") == "not available":
        return "not available (no such endpoint yet)", "—"
    if "error" in value:
        return f"error: {value['error'][:80]}", "—"
    if key in ("api_list", "api_detail", "dashboard"):
        limit = {"api_list": 50, "api_detail": 30, "dashboard": 150}[key]
        return f"p95 {value['p95_ms']:.1f} ms (p50 {value['p50_ms']:.1f})", _met(value["p95_ms"] <= limit)
    if key == "api_list_raw":
        return f"raw p95 {value['p95_ms']:.1f} ms; app / raw = {value['ratio']:.1f}", _met(value["ratio"] <= 3)
    if key == "filing":
        return (
            f"{value['per_second']:.0f}/s ({value['created']} in {value['wall_s']} s, {value['errors']} errors)",
            _met(value["per_second"] >= 150 and not value["errors"]),
        )
    if key in ("timeliness_page", "timeliness_api"):
        return f"p50 {value['p50_ms']:.0f} ms, max {value['max_ms']:.0f} ms", _met(value["max_ms"] <= 500)
    if key == "sweep":
        parts = [
            f"{r['seconds']:.1f} s for {r['due']:,} due among {r['among']:,}, peak {r['peak_rss_mb']:.0f} MB"
            for r in value["runs"]
        ]
        flat = max(r["peak_rss_mb"] for r in value["runs"]) - min(r["peak_rss_mb"] for r in value["runs"]) <= 10
        fast = all(r["seconds"] <= 10 for r in value["runs"])
        return "; ".join(parts), _met(fast and flat)
    if key == "worker_rss":
        return f"{max(value['rss_mb']):.0f} MB (workers: {', '.join(f'{v:.0f}' for v in value['rss_mb'])})", _met(
            max(value["rss_mb"]) <= 200
        )
    return json.dumps(value)[:80], "—"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(results: dict) -> str:
    lines = ["| what | target at 1M | measured | |", "|---|---|---|---|"]
    for key, (label, target) in TARGETS.items():
        if key in results:
            measured, met = verdict(key, results[key])
            lines.append(f"| {label} | {target} | {measured} | {met} |")
    return "\n".join(lines)


def measure(key, results, function, *args):
    print(f"  {TARGETS[key][0]} ...", file=sys.stderr, flush=True)
    try:
        results[key] = function(*args)
    except NotAvailable:
        results[key] = {"status": "not available"}
    except Exception as error:  # noqa: BLE001 - a failed row is reported, the others still run
        results[key] = {"error": f"{type(error).__name__}: {error}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per latency row (default 200)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--filings", type=int, default=100, help="POSTs per filing client (default 100)")
    parser.add_argument("--due", type=int, default=10000, help="due notifications for the sweep (default 10000)")
    parser.add_argument(
        "--small-database-url",
        default="postgres://postgres@127.0.0.1:5432/pen_bench_100k",
        help="a second, smaller seeded database for the sweep's memory (skipped if absent)",
    )
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--only", help="comma-separated row keys to run (e.g. api_list,dashboard)")
    args = parser.parse_args()

    common.setup_django()
    from django.db import connection

    from demo import scale

    with connection.cursor() as cursor:
        state = scale.read_state(cursor)
        cursor.execute("SELECT COUNT(*) FROM notifications_notification")
        total = cursor.fetchone()[0]
    only = set(args.only.split(",")) if args.only else set(TARGETS)
    info = {
        "machine": common.machine(),
        "postgresql": common.postgres_version(),
        "postgresql_settings": common.postgres_settings(),
        "database": connection.settings_dict["NAME"],
        "notifications": total,
        "seed": state.to_json() if state else None,
        "command": " ".join(sys.argv),
    }
    print(f"{total:,} notifications in {info['database']}", file=sys.stderr)
    cast = pick_cast()
    results = {}
    env = common.bench_env()
    with common.Gunicorn(env, workers=2) as server:
        base = server.url
        importer_bearer = {"Authorization": f"Bearer {token(base, cast['importer'])}"}
        info["importer"] = cast["importer"].country_id
        info["busy_authority"] = cast["busy"].country_id
        if "api_list" in only:
            measure("api_list", results, api_list, base, importer_bearer, args.requests, args.warmup)
            measure("api_list_raw", results, api_list_raw, importer_bearer, args.requests, args.warmup)
            app, raw = results["api_list"], results["api_list_raw"]
            if "p95_ms" in app and "p95_ms" in raw:
                raw["ratio"] = round(app["p95_ms"] / raw["p95_ms"], 2)
        if "api_detail" in only:
            measure("api_detail", results, api_detail, base, importer_bearer, args.requests, args.warmup)
        if "dashboard" in only:
            session = login(base, cast["busy_officer"].username)
            measure("dashboard", results, page, base, session, "/notifications/", min(args.requests, 100), 5)
        if {"timeliness_page", "timeliness_api"} & only:
            today = datetime.now(UTC).date()
            period = f"from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"
            incb_session = login(base, cast["incb_reviewer"].username)
            measure("timeliness_page", results, page, base, incb_session, f"/timeliness/?{period}", 10, 1)
            import requests

            api = requests.Session()
            api.headers.update({"Authorization": f"Bearer {token(base, cast['incb'], ['statistics:read'])}"})
            measure("timeliness_api", results, page, base, api, f"/api/v1/timeliness/?{period}", 10, 1)
        if "filing" in only:
            tokens = {
                a.country_id: token(base, a, ["notifications:read", "notifications:write"]) for a in cast["exporters"]
            }
            importers = ["MX", "BR", "NG", "TR", "VN", "ID", "EG", "PK"]
            measure("filing", results, filing, base, tokens, importers, args.filings)
        if "worker_rss" in only:
            results["worker_rss"] = {"rss_mb": server.worker_rss_mb()}
    common.purge_broker()

    if "sweep" in only and not args.skip_sweep:
        runs = []
        print(f"  {TARGETS['sweep'][0]} ...", file=sys.stderr, flush=True)
        try:
            runs.append(sweep(env["DATABASE_URL"], args.due))
            if database_exists(args.small_database_url):
                runs.append(sweep(args.small_database_url, args.due))
            results["sweep"] = {"runs": runs}
        except Exception as error:  # noqa: BLE001
            results["sweep"] = {"error": str(error), "runs": runs}

    info["machine"]["loadavg_at_end"] = __import__("os").getloadavg()
    text = table(results)
    print()
    print(
        f"{info['notifications']:,} notifications; importer {info['importer']}, busy authority {info['busy_authority']}"
    )
    print(f"machine: {info['machine']}")
    print(text)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    path = common.RESULTS / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({"info": info, "results": results, "table": text}, indent=2, default=str))
    print(f"\nwritten {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
