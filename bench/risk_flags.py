#!/usr/bin/env python
"""The risk flags' and the estimates' benchmark of issue 13, against a database seeded by
``manage.py seed_scale`` (and backfilled by ``manage.py index_party_names``, so that the
new_importer and prior_objection flags search real party names). Not a test: run it by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pen_bench .venv/bin/python bench/risk_flags.py

In process (django.setup()), DEBUG off:

1. Estimates: the ~20 busiest importing countries of ephedrine and pseudoephedrine in the
   seed's current year get an estimate of each (``monitoring.models.Estimate`` rows written
   with ``flags_recomputed_at`` set, so no background recompute), some below what is already
   notified so that ``alr_exceeded`` fires. Kept between runs (a second run adds none).
2. Filing overhead: N filings built from the data (a sampled sent notification's parties,
   items and route, filed by its exporting authority's officer; every other one to one of the
   estimated countries with an ALR item) through ``notifications.services.file_notification``
   with the risk registry as registered and with it emptied (``notifications.risk._ASSESSORS``
   and ``_EVALUATORS``), alternately, each inside a transaction rolled back at the end, so the
   database does not grow. Also ``risk.assess`` alone on each filed notification.
3. The estimate view: ``GET /api/v1/estimates/?country=XX&year=YYYY`` through
   ``django.test.Client`` as an INCB user (``force_login``), and ``monitoring.estimates.rows``
   alone, for several countries.

It prints the table with the targets and writes bench/results/risk-flags-<time>.json (the
machine, the figures, and EXPLAIN ANALYZE of the queries of one assessment and one view)."""

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

TARGETS = {
    "filing_added": ("evaluating all flags at filing: added p95 (with − without)", 15.0),
    "estimate_view": ("estimate view, one country and year: p95", 20.0),
}
ESTIMATED = ("ephedrine", "pseudoephedrine")


class Rollback(Exception):
    """Raised at the end of each measured filing: its transaction is rolled back."""


# --- the data ------------------------------------------------------------------------------


def seed_now():
    from django.db import connection

    from demo import scale

    with connection.cursor() as cursor:
        state = scale.read_state(cursor)
    if state is None:
        sys.exit("No seed_scale record on this database: seed it first (bench/README.md).")
    return datetime.fromisoformat(state.params.now), state


def busiest_importers(year: int, limit: int) -> list[tuple[str, int]]:
    """(country, number of ephedrine/pseudoephedrine items sent to it in ``year``)."""
    from django.db import connection

    from authorities.models import Substance
    from monitoring.estimates import year_bounds

    start, end = year_bounds(year)
    ids = list(Substance.objects.filter(code__in=ESTIMATED).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.importing_country_id, COUNT(*) FROM notifications_item i "
            "JOIN notifications_notification n ON n.id = i.notification_id "
            "WHERE i.substance_id = ANY(%s) AND n.submitted_at >= %s AND n.submitted_at < %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s",
            [ids, start, end, limit],
        )
        return cursor.fetchall()


def ensure_estimates(countries: list[str], year: int, now: datetime) -> dict:
    """An estimate of each ESTIMATED substance for each country in ``year``: 1.5 times what
    is notified so far, but for every fourth country 0.8 times (exceeded already)."""
    from monitoring import estimates
    from monitoring.models import Estimate, EstimateSource

    substances = {pk: s for pk, s in estimates.alr_substances().items() if s.code in ESTIMATED}
    existing = set(
        Estimate.objects.filter(
            country_id__in=countries, substance_id__in=substances, year=year, replaced_at__isnull=True
        ).values_list("country_id", "substance_id")
    )
    totals = estimates.notified(countries, year, substances)
    new, exceeded = [], []
    for rank, country in enumerate(countries):
        factor = Decimal("0.8") if rank % 4 == 3 else Decimal("1.5")
        if factor < 1:
            exceeded.append(country)
        for pk in substances:
            if (country, pk) in existing:
                continue
            notified = totals.get((country, pk), Decimal("0"))
            quantity = (notified * factor).quantize(Decimal("1")) if notified else Decimal("100")
            new.append(
                Estimate(
                    country_id=country,
                    substance_id=pk,
                    year=year,
                    quantity=quantity,
                    valid_from=datetime(year, 1, 1).date(),
                    source=EstimateSource.IMPORT,
                    recorded_at=now,
                    recorded_by=None,
                    flags_recomputed_at=now,
                )
            )
    Estimate.objects.bulk_create(new)
    return {"created": len(new), "already_there": len(existing), "below_notified": exceeded}


def officers() -> dict[int, object]:
    """The exporting officer of each authority (the seed: one officer per focal point)."""
    from accounts.models import User

    found = {}
    for user in User.objects.filter(role="officer", is_machine=False, is_active=True).select_related(
        "authority__country"
    ):
        found.setdefault(user.authority_id, user)
    return found


def sample_notifications(rng: random.Random, n: int, *, country=None) -> list:
    """``n`` sent notifications picked at random (by id), to ``country`` if given."""
    from django.db.models import Max, Min

    from notifications.models import Notification, Status

    sent = Notification.objects.exclude(status=Status.DRAFT)
    if country:
        sent = sent.filter(importing_country_id=country)
    bounds = sent.aggregate(low=Min("pk"), high=Max("pk"))
    picked = []
    while len(picked) < n:
        start = rng.randint(bounds["low"], bounds["high"])
        found = sent.filter(pk__gte=start).order_by("pk").first() or sent.order_by("pk").first()
        picked.append(found)
    return picked


def data_of(source, *, rng, now, alr_substance=None, number: int):
    """NotificationData filed like ``source`` (its parties, route, items), sent today, with
    an ALR item added when ``alr_substance`` is given and it has none."""
    from notifications.services import ItemData, NotificationData, PartyData

    items = [
        ItemData(
            substance=item.substance.code,
            quantity=item.quantity,
            unit=item.unit,
            form=item.form,
            trade_name=item.trade_name,
            concentration_percent=item.concentration_percent,
            packages=item.packages,
        )
        for item in source.items.select_related("substance")
        # A regular notification names no entry of the special surveillance list (those go
        # in a voluntary one).
        if item.substance_id is not None
        and item.quantity
        and not getattr(item.substance, "on_surveillance_list", False)
    ]
    if alr_substance and not any(item.substance in ESTIMATED for item in items):
        median = {"ephedrine": 50, "pseudoephedrine": 100}[alr_substance]
        # Mostly ordinary quantities; one in ten far above (unusual_quantity).
        factor = rng.uniform(8, 15) if rng.random() < 0.1 else rng.lognormvariate(0, 0.6)
        quantity = Decimal(str(round(median * factor, 1)))
        items.append(ItemData(substance=alr_substance, quantity=quantity, unit="kg", packages="drums"))
    return NotificationData(
        importing_country=source.importing_country_id,
        exporter=PartyData(source.exporter_name, source.exporter_address, source.exporter_licence_number),
        importer=PartyData(source.importer_name, source.importer_address, source.importer_licence_number),
        consignee=PartyData(source.consignee_name, source.consignee_address, source.consignee_licence_number),
        broker=PartyData(source.broker_name, source.broker_address, source.broker_licence_number),
        items=items,
        point_of_exit=source.point_of_exit,
        point_of_entry=source.point_of_entry,
        mode_of_transport=source.mode_of_transport,
        carrier=source.carrier,
        expected_dispatch=now.date() + timedelta(days=rng.randint(10, 40)),
        end_use=source.end_use,
        transit_countries=list(source.transits.values_list("country_id", flat=True)),
        import_authorization_number=source.import_authorization_number,
        national_reference=f"BENCH-13-{number:05d}",
    )


def build_filings(n: int, countries: list[tuple[str, int]], now, rng) -> list[tuple[object, object]]:
    """(actor, NotificationData) × n: every other one to an estimated country with an ALR
    item (countries weighted by their ALR trade), the others as sampled."""
    from django.core.exceptions import ValidationError

    from notifications.services import validate_notification_data

    by_authority = officers()
    weights = [count for _code, count in countries]
    filings = []
    index = 0
    while len(filings) < n:
        index += 1
        if index % 2 == 0:
            country = rng.choices([code for code, _count in countries], weights=weights)[0]
            source = sample_notifications(rng, 1, country=country)[0]
            alr = rng.choice(ESTIMATED)
        else:
            source = sample_notifications(rng, 1)[0]
            alr = None
        actor = by_authority.get(source.exporting_authority_id)
        if actor is None:
            continue
        data = data_of(source, rng=rng, now=now, alr_substance=alr, number=index)
        try:
            validate_notification_data(data, exporting_authority=actor.authority, now=now)
        except ValidationError:
            continue  # e.g. only substances that are no longer notified this way
        filings.append((actor, data))
    return filings


# --- the measures --------------------------------------------------------------------------


class emptied_registry:
    """notifications.risk with no evaluator and no assessor (restored on exit)."""

    def __enter__(self):
        from notifications import risk

        self.saved = (list(risk._EVALUATORS), dict(risk._ASSESSORS))
        risk._EVALUATORS.clear()
        risk._ASSESSORS.clear()

    def __exit__(self, *exc):
        from notifications import risk

        risk._EVALUATORS[:] = self.saved[0]
        risk._ASSESSORS.clear()
        risk._ASSESSORS.update(self.saved[1])


def file_once(actor, data, now, *, with_flags: bool, assess_times=None, raised=None) -> float:
    """Seconds to file ``data`` (sent) with or without the flags; rolled back."""
    from contextlib import nullcontext

    from django.db import transaction

    from notifications import risk, services

    elapsed = None
    try:
        with transaction.atomic():
            with nullcontext() if with_flags else emptied_registry():
                started = time.perf_counter()
                notification = services.file_notification(actor=actor, data=data, draft=False, now=now)
                elapsed = time.perf_counter() - started
            if assess_times is not None:
                started = time.perf_counter()
                findings = risk.assess(notification, now=now)
                assess_times.append(time.perf_counter() - started)
                for kind, finding in findings.items():
                    if finding is not None and raised is not None:
                        raised[kind] = raised.get(kind, 0) + 1
            raise Rollback
    except Rollback:
        pass
    return elapsed


def measure_filing(filings, now, warmup: int) -> dict:
    from notifications import risk

    registered = risk.registered()
    """The first ``warmup`` filings warm up; the others are measured."""
    for actor, data in filings[:warmup]:
        file_once(actor, data, now, with_flags=True)
        file_once(actor, data, now, with_flags=False)
    with_flags, without, assess_times, raised = [], [], [], {}
    for index, (actor, data) in enumerate(filings[warmup:]):
        # Alternately first, so that neither side always finds the other's pages in cache.
        order = (True, False) if index % 2 == 0 else (False, True)
        for flags in order:
            if flags:
                with_flags.append(
                    file_once(actor, data, now, with_flags=True, assess_times=assess_times, raised=raised)
                )
            else:
                without.append(file_once(actor, data, now, with_flags=False))
    assert risk.registered() == registered, "the registry was not restored"
    summary_with, summary_without = common.summary_ms(with_flags), common.summary_ms(without)
    paired = [(a - b) * 1000 for a, b in zip(with_flags, without, strict=True)]
    return {
        "registered": registered,
        "with": summary_with,
        "without": summary_without,
        "added_p95_ms": round(summary_with["p95_ms"] - summary_without["p95_ms"], 2),
        "added_p50_ms": round(summary_with["p50_ms"] - summary_without["p50_ms"], 2),
        "paired_difference_p95_ms": round(common.percentile(paired, 95), 2),
        "assess": common.summary_ms(assess_times),
        "flags_raised": raised,
    }


def incb_user():
    from accounts.models import User
    from authorities.models import Authority

    incb = Authority.objects.filter(kind="incb").order_by("pk").first()
    if incb is None:
        sys.exit("No INCB authority in this database.")
    user = User.objects.filter(authority=incb, is_active=True, is_machine=False).order_by("pk").first()
    if user is None:
        user = User.objects.create_user(username="bench-incb-13", authority=incb, role="reviewer")
    return user


def measure_view(countries: list[str], year: int, n: int, warmup: int) -> dict:
    from django.test import Client

    from monitoring import estimates

    client = Client()
    client.force_login(incb_user())
    urls = [f"/api/v1/estimates/?country={code}&year={year}" for code in countries]
    for index in range(warmup):
        client.get(urls[index % len(urls)])
    times, sizes = [], {}
    for index in range(n):
        url = urls[index % len(urls)]
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        sizes[url] = len(response.json())
    for index in range(warmup):
        estimates.rows([countries[index % len(countries)]], year)
    row_times = []
    for index in range(n):
        started = time.perf_counter()
        estimates.rows([countries[index % len(countries)]], year)
        row_times.append(time.perf_counter() - started)
    return {
        "countries": countries,
        "rows_per_response": sizes,
        "view": common.summary_ms(times),
        "rows": common.summary_ms(row_times),
    }


def plans(actor, data, now, countries, year) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of every query of one assessment and of one rows() call."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from monitoring import estimates
    from notifications import risk, services

    out = {}
    try:
        with transaction.atomic():
            notification = services.file_notification(actor=actor, data=data, draft=False, now=now)
            with CaptureQueriesContext(connection) as assess_queries:
                risk.assess(notification, now=now)
            with CaptureQueriesContext(connection) as rows_queries:
                estimates.rows([countries[0]], year)
            with connection.cursor() as cursor:
                for label, captured in (("assess", assess_queries), ("rows", rows_queries)):
                    out[label] = []
                    for query in captured.captured_queries:
                        sql = query["sql"]
                        if not sql.lstrip().upper().startswith("SELECT"):
                            out[label].append({"sql": sql, "plan": None})
                            continue
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        out[label].append({"sql": sql, "plan": "\n".join(row[0] for row in cursor.fetchall())})
            raise Rollback
    except Rollback:
        pass
    return out


def table(results: dict) -> str:
    filing, view = results["filing"], results["view"]

    def line(label, p50, p95, target="", met=None):
        verdict = "" if met is None else ("yes" if met else "NO")
        p50 = "" if p50 is None else p50
        return f"{label:<62} {p50:>8} {p95:>8}  {target:<10} {verdict}"

    added, view_p95 = filing["added_p95_ms"], view["view"]["p95_ms"]
    return "\n".join(
        [
            line("measure", "p50 ms", "p95 ms", "target", None) + "met",
            "-" * 96,
            line(f"filing with every flag ({filing['with']['n']})", filing["with"]["p50_ms"], filing["with"]["p95_ms"]),
            line("filing with the risk registry emptied", filing["without"]["p50_ms"], filing["without"]["p95_ms"]),
            line(TARGETS["filing_added"][0], filing["added_p50_ms"], added, "≤ 15 ms", added <= 15.0),
            line("  (paired: p95 of each filing's with − without)", None, filing["paired_difference_p95_ms"]),
            line("risk.assess alone, per filed notification", filing["assess"]["p50_ms"], filing["assess"]["p95_ms"]),
            line(TARGETS["estimate_view"][0], view["view"]["p50_ms"], view_p95, "≤ 20 ms", view_p95 <= 20.0),
            line("monitoring.estimates.rows([country], year) alone", view["rows"]["p50_ms"], view["rows"]["p95_ms"]),
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filings", type=int, default=200, help="filings with and without the flags (default 200)")
    parser.add_argument("--requests", type=int, default=200, help="estimate view requests (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests (default 20; filings: half)")
    parser.add_argument("--countries", type=int, default=20, help="estimated countries (default 20)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    common.setup_django()
    from django.db import connection

    from incidents.models import NotificationPartyName
    from notifications.models import Notification

    data_now, state = seed_now()
    # Filed now (the data's instant, or later: the sweep and the chase clock of the seed).
    now = max(data_now, datetime.now(UTC))
    year = data_now.year
    rng = random.Random(args.seed)
    info = {
        "machine": common.machine(),
        "postgresql": common.postgres_version(),
        "postgresql_settings": common.postgres_settings(),
        "database": connection.settings_dict["NAME"],
        "notifications": Notification.objects.count(),
        "party_name_rows": NotificationPartyName.objects.count(),
        "seed": state.to_json(),
        "year": year,
        "now": now.isoformat(),
        "command": " ".join(sys.argv),
    }
    print(
        f"{info['notifications']:,} notifications, {info['party_name_rows']:,} party names in {info['database']}",
        file=sys.stderr,
    )
    if info["party_name_rows"] == 0:
        print("  (no party names: run manage.py index_party_names first for realistic figures)", file=sys.stderr)

    print("  estimates ...", file=sys.stderr, flush=True)
    busiest = busiest_importers(year, args.countries)
    countries = [code for code, _count in busiest]
    info["estimated_countries"] = busiest
    info["estimates"] = ensure_estimates(countries, year, now)

    print(f"  filing x {args.filings} with and without the flags ...", file=sys.stderr, flush=True)
    warmup = max(1, args.warmup // 2)
    filings = build_filings(args.filings + warmup, busiest, now, rng)
    results = {"filing": measure_filing(filings, now, warmup)}

    print(f"  estimate view x {args.requests} ...", file=sys.stderr, flush=True)
    view_countries = [countries[i] for i in sorted({0, 1, len(countries) // 2, len(countries) - 1, 3})]
    results["view"] = measure_view(view_countries, year, args.requests, args.warmup)
    info["plans"] = plans(*filings[0], now, countries, year)

    info["machine"]["loadavg_at_end"] = __import__("os").getloadavg()
    text = table(results)
    print()
    print(f"{info['notifications']:,} notifications; year {year}; estimated countries {', '.join(countries)}")
    print(f"machine: {info['machine']}")
    print(f"flags raised over the {results['filing']['with']['n']} filings: {results['filing']['flags_raised']}")
    print(text)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    path = common.RESULTS / f"risk-flags-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({"info": info, "results": results, "table": text}, indent=2, default=str))
    print(f"\nwritten {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
