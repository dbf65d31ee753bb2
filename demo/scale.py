"""Realistic data at scale, fast: the engine of ``manage.py seed_scale`` (issue 7).

The portal's write path is notifications.services, one notification at a time, a few
milliseconds each; a million that way takes hours. This module writes the same rows the
services (and the chase sweep) would have written, directly with PostgreSQL ``COPY``:

- Reference data, authorities and users go through the real services
  (``load_reference_data``, ``create_authority``): there are only a few hundred.
- Each notification's life is *simulated* in plain Python, from filing to the state it is
  in at ``now``: sent (``file_notification`` + ``submit``), perhaps acknowledged, answered
  (on time, late, or never), asked for information and answered, withdrawn, shared, and
  chased by the sweep step by step (``chasing.sweep``). Every action writes what its
  service writes: the notification's columns (status, ``version`` bumped by each
  transition, ``updated_at``, the reply clock, ``next_chase_at``/``chase_step``), the
  ``Event``, the ``Response``, the ``OutboxMessage`` (dispatched), the ``ChaseRecord`` and
  the silence ``RiskSignal``. Nothing in the future of ``now`` is written.
- Rows are generated in batches with their own ``random.Random`` (seeded from ``--seed``
  and the batch number), turned into ``COPY`` text in memory and loaded in one
  transaction per batch; memory stays flat whatever ``--notifications`` is. Primary keys
  are allocated here; the sequences are moved past them in the same transaction.
- A writer thread loads batch k on a connection of its own while the main thread generates
  batch k+1 (Python and PostgreSQL each keep one of the two cores busy). As a superuser the
  load skips the per-row foreign-key triggers and verifies every reference in bulk at the
  end (``verify``); then ``VACUUM (ANALYZE)``, as autovacuum would in steady state.
- Progress (the parameters and the number of batches done) is kept in the comment of the
  notifications table, written in each batch's transaction, so an interrupted run
  continues where the data stops, and a run with other parameters is refused.

Simplifications, all on the side of fewer rows, never inconsistent ones: every country's
exporting and importing authority is its focal point with one officer; a request for
information is always asked before the reminder (see the note in ``Simulator.notification``)."""

import io
import json
import math
import queue
import random
import sys
import threading
import time
from bisect import bisect
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import accumulate
from types import SimpleNamespace

from django.db import connection, transaction

from web.dates import for_people

STATE_VERSION = 1
DAY = 86400.0
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# The tables a run writes (and ``--reset`` empties). Attachments, follow-ups, webhook
# deliveries and idempotency records are not seeded, but point at seeded rows.
SEEDED_TABLES = (
    "notifications_notification",
    "notifications_item",
    "notifications_transitcountry",
    "notifications_response",
    "notifications_event",
    "notifications_risksignal",
    "chasing_chaserecord",
    "messaging_outboxmessage",
    "notifications_notificationgroupobjectpermission",
    "notifications_referencecounter",
)
RESET_TABLES = SEEDED_TABLES + (
    "api_idempotencyrecord",  # stored responses of notifications being deleted
    "notifications_notificationuserobjectpermission",
    "notifications_attachment",
    "chasing_followup",
    "messaging_webhookdelivery",
)

# --- the world: who trades with whom -----------------------------------------------------

# Exporters by rank (a Zipf-like share: the first five carry most of the volume), then the
# long tail. Countries not listed follow in the order of a seeded shuffle.
EXPORT_RANKING = (
    "DE", "IN", "CN", "US", "NL", "BE", "FR", "GB", "JP", "KR", "IT", "ES", "CH", "SG", "IE",
    "SE", "PL", "AT", "DK", "CZ", "HU", "TW", "TH", "MY", "BR", "MX", "ZA", "TR", "AE", "CA",
)  # fmt: skip
IMPORT_RANKING = (
    "MX", "BR", "NG", "TR", "VN", "ID", "EG", "PK", "CO", "AR", "PH", "BD", "KE", "GH", "ZA",
    "IR", "SA", "PE", "CL", "TH", "MY", "RU", "UA", "KZ", "DZ", "MA", "ET", "TZ", "UG", "LK",
    "US", "DE", "IN", "CN", "NL", "GB", "FR", "IT", "ES", "JP", "KR", "BE", "CH", "CA", "AU",
)  # fmt: skip
TRANSIT_HUBS = ("NL", "BE", "AE", "SG", "DE", "PA", "TR", "HK", "ES", "MA", "ZA", "MY", "GB", "FR", "EG")
EXPORT_ZIPF = 1.3
IMPORT_ZIPF = 0.8

COMPANY_WORDS = (
    "Apex", "Nova", "Orion", "Delta", "Zenith", "Atlas", "Vertex", "Helix", "Polar", "Summit",
    "Crescent", "Meridian", "Pioneer", "Sterling", "Horizon", "Evergreen", "Unity", "Prime",
    "Allied", "Coastal", "Northern", "Royal", "Silver", "Lotus", "Cedar", "Falcon", "Harbour",
)  # fmt: skip
COMPANY_TRADES = (
    "Chemicals", "Pharma", "Chemie", "Trading", "Industries", "Laboratories", "Solvents",
    "Fine Chemicals", "Life Sciences", "Materials", "Paints", "Agro", "Healthcare",
)  # fmt: skip
COMPANY_FORMS = {
    "DE": "GmbH", "NL": "B.V.", "IN": "Pvt. Ltd.", "CN": "Co., Ltd.", "US": "Inc.", "FR": "S.A.S.",
    "GB": "Ltd", "BE": "NV", "CH": "AG", "JP": "K.K.", "KR": "Co., Ltd.", "IT": "S.p.A.",
    "ES": "S.L.", "BR": "Ltda.", "MX": "S.A. de C.V.", "AT": "GmbH", "SE": "AB", "PL": "Sp. z o.o.",
}  # fmt: skip
STREETS = ("Industrial Road", "Harbour Street", "Station Road", "Market Street", "Chemical Park", "Free Zone")
PORTS = {
    "DE": ("Hamburg", "Bremerhaven", "Frankfurt Airport", "Duisburg"),
    "IN": ("Nhava Sheva", "Mundra", "Chennai", "Mumbai Airport"),
    "CN": ("Shanghai", "Ningbo", "Shenzhen", "Tianjin", "Guangzhou"),
    "US": ("Houston", "New Jersey/Newark", "Los Angeles", "Chicago O'Hare"),
    "NL": ("Rotterdam", "Amsterdam Schiphol", "Venlo"),
    "BE": ("Antwerp", "Zeebrugge", "Liège Airport"),
    "MX": ("Manzanillo", "Veracruz", "Lázaro Cárdenas"),
    "BR": ("Santos", "Paranaguá", "Guarulhos Airport"),
    "NG": ("Apapa", "Tin Can Island", "Lagos Airport"),
    "GH": ("Tema", "Takoradi", "Kotoka Airport"),
}
END_USES = (
    "Manufacture of cough and cold medicines",
    "Solvent for paints and coatings",
    "Production of pharmaceutical active ingredients",
    "Water treatment",
    "Laboratory reagent",
    "Production of fragrances",
    "Manufacture of plastics",
    "Cleaning of electronic components",
    "Production of fertilisers",
    "Textile processing",
)
CARRIERS = ("Maersk", "MSC", "CMA CGM", "Hapag-Lloyd", "DHL", "Lufthansa Cargo", "Emirates SkyCargo", "Kuehne+Nagel")
QUESTIONS = (
    "Please send the import licence of the consignee.",
    "Which products will be manufactured with this quantity?",
    "Please confirm the registration of the importer with our authority.",
    "The quantity exceeds the annual estimate: please explain.",
)
ANSWERS = (
    "The import licence is attached.",
    "The quantity covers six months of production; the plan is attached.",
    "The importer's registration number is on the licence attached.",
)
OBJECTIONS = (
    "The importer is not registered with our authority.",
    "The quantity exceeds the annual legitimate requirement.",
    "The declared end use could not be verified.",
)
WITHDRAWALS = ("The order was cancelled.", "The exporter will ship from another site.", "Wrong importer address.")
MODES = (("sea", 55), ("air", 25), ("road", 12), ("rail", 5), ("post", 1), ("other", 2))
# Substance code -> (weight, unit, median quantity). Solvents and acids move by the tonne;
# Table I precursors in kilograms.
SUBSTANCE_PROFILES = {
    "acetone": (12, "l", 8000),
    "toluene": (10, "l", 10000),
    "sulphuric-acid": (10, "kg", 20000),
    "hydrochloric-acid": (10, "l", 5000),
    "methyl-ethyl-ketone": (8, "l", 6000),
    "potassium-permanganate": (5, "kg", 500),
    "ethyl-ether": (4, "l", 1000),
    "pseudoephedrine": (6, "kg", 100),
    "ephedrine": (4, "kg", 50),
    "acetic-anhydride": (4, "l", 2000),
    "piperidine": (2, "kg", 200),
    "anthranilic-acid": (2, "kg", 500),
    "phenylacetic-acid": (2, "kg", 300),
    "piperonal": (1.5, "kg", 200),
    "benzaldehyde": (1, "kg", 1000),
}
OTHER_SUBSTANCE = (0.2, "kg", 20)
PACKAGES = ("drums", "IBCs", "bags", "cartons", "jerrycans", "ISO tanks")


# --- COPY text format --------------------------------------------------------------------

NULL = "\\N"


def esc(value: str) -> str:
    """A string as a COPY text field."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def ts(epoch: float | None) -> str:
    if epoch is None:
        return NULL
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def day_of(epoch: float) -> date:
    return date.fromordinal(EPOCH_ORDINAL + int(epoch // DAY))


def deadline_of(reply_due: date) -> float:
    """notifications.clock.reply_deadline as epoch seconds: midnight UTC after the day."""
    return (reply_due.toordinal() + 1 - EPOCH_ORDINAL) * DAY


@cache
def _for_people(day: date) -> str:
    """A date in a timeline text, as the services write it (web.dates.for_people); cached,
    since a million notifications share a few thousand days."""
    return for_people(day)


# --- parameters and state ----------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    notifications: int
    countries: int = 200
    years: int = 5
    seed: int = 42
    batch: int = 20000
    now: str = ""  # ISO instant the data is "as of"; fixed by the first run

    @property
    def now_epoch(self) -> float:
        return datetime.fromisoformat(self.now).timestamp()

    def comparable(self) -> dict:
        return asdict(self)


@dataclass
class State:
    params: Params
    batches_done: int = 0
    notifications_done: int = 0
    dropped: list = field(default_factory=list)  # [(table, name, definition)] to recreate

    def to_json(self) -> str:
        return json.dumps(
            {
                "seed_scale": STATE_VERSION,
                "params": asdict(self.params),
                "batches_done": self.batches_done,
                "notifications_done": self.notifications_done,
                "dropped": self.dropped,
            }
        )

    @classmethod
    def from_json(cls, text: str | None):
        try:
            data = json.loads(text or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("seed_scale") != STATE_VERSION:
            return None
        return cls(
            params=Params(**data["params"]),
            batches_done=data["batches_done"],
            notifications_done=data["notifications_done"],
            dropped=[tuple(row) for row in data.get("dropped", [])],
        )


class SeedError(Exception):
    """The run cannot start or continue; the message says what to do."""


def read_state(cursor) -> State | None:
    cursor.execute("SELECT obj_description('notifications_notification'::regclass, 'pg_class')")
    return State.from_json(cursor.fetchone()[0])


def write_state(cursor, state: State | None) -> None:
    text = state.to_json() if state is not None else None
    # COMMENT takes a literal, not a parameter: quote it with the server's own function.
    cursor.execute("SELECT quote_nullable(%s)", [text])
    cursor.execute(f"COMMENT ON TABLE notifications_notification IS {cursor.fetchone()[0]}")


def reset(cursor) -> None:
    cursor.execute(f"TRUNCATE {', '.join(RESET_TABLES)} CASCADE")
    write_state(cursor, None)


# --- the world ---------------------------------------------------------------------------


@dataclass
class Actor:
    country: str
    country_name: str
    authority_id: int
    authority_code: str
    authority_name: str
    group_id: int
    officer_id: int
    reply_regime: str
    # Traits of the country as an importer.
    reply_median_days: float
    never_share: float
    acknowledges: float


@dataclass
class World:
    actors: dict  # country code -> Actor
    exporters: list  # country codes by rank
    export_cum: list
    importers: list
    import_cum: list
    hubs: list
    substances: list  # (id, code, unit, median)
    substance_cum: list
    permission_id: int
    countries: dict  # code -> Country (for the reply period and the chase messages)


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    return list(accumulate(1.0 / (rank**exponent) for rank in range(1, n + 1)))


def _ranked(ranking, pool, rng) -> list[str]:
    head = [code for code in ranking if code in pool]
    tail = sorted(set(pool) - set(head))
    rng.shuffle(tail)
    return head + tail


POLICIES = (
    # (weight, regime, days, kind)
    (60, "explicit_consent", 15, "calendar"),
    (12, "tacit_consent", 15, "calendar"),
    (12, "explicit_consent", 10, "working"),
    (8, "explicit_consent", 21, "calendar"),
    (5, "tacit_consent", 30, "calendar"),
    (3, "explicit_consent", 7, "working"),
)


def build_world(params: Params, *, password_hash: str | None = None, stdout=None) -> World:
    """Reference data, ``params.countries`` countries with a competent authority (the first
    of each is its focal point) and one officer each, and the INCB secretariat, through the
    services. Idempotent: a second call finds everything in place."""
    import pycountry
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import Role, User
    from authorities.models import Authority, Country, Substance
    from authorities.services import create_authority, load_reference_data, update_country_policy
    from notifications.models import Notification

    load_reference_data()
    rng = random.Random(f"{params.seed}:world")
    all_codes = sorted(c.alpha_2 for c in pycountry.countries)
    # The ranked countries first, then a seeded sample of the rest, up to --countries.
    ranked = list(dict.fromkeys(EXPORT_RANKING + IMPORT_RANKING + TRANSIT_HUBS))
    rest = sorted(set(all_codes) - set(ranked))
    rng.shuffle(rest)
    chosen = (ranked + rest)[: max(2, params.countries)]

    countries = Country.objects.in_bulk(chosen)
    for code in chosen:
        country = countries[code]
        authority, created = create_authority(
            code=f"{code.lower()}-cna",
            name=f"Competent National Authority of {country.name}",
            email=f"precursors@cna.{code.lower()}.example",
            country_code=code,
            address=f"{rng.randint(1, 200)} Ministry Road\n{country.name}",
            phone=f"+{rng.randint(1, 999)} {rng.randint(100000, 999999)}",
        )
        # Drawn whether or not it is applied, so that a second run sees the same world.
        _w, regime, days, kind = rng.choices(POLICIES, weights=[p[0] for p in POLICIES])[0]
        if created and country.policy_updated_at is None:
            if (regime, days, kind) != (country.reply_regime, country.reply_period_days, country.reply_period_kind):
                update_country_policy(
                    country=country, reply_regime=regime, reply_period_days=days, reply_period_kind=kind
                )
    create_authority(code="incb", name="INCB secretariat", email="incb@incb.example", incb=True)

    focal = {
        a.country_id: a
        for a in Authority.objects.filter(country_id__in=chosen, is_focal_point=True).select_related("country")
    }
    incb = Authority.objects.filter(kind="incb").order_by("pk").first()
    wanted = {f"{a.code}.officer": (a, Role.OFFICER) for a in focal.values()}
    if incb is not None:
        wanted[f"{incb.code}.reviewer"] = (incb, Role.REVIEWER)
    existing = set(User.objects.filter(username__in=list(wanted)).values_list("username", flat=True))
    new_users = []
    for username, (authority, role) in wanted.items():
        if username in existing:
            continue
        user = User(
            username=username,
            email=f"{username}@seed.example",
            authority=authority,
            role=role,
            first_name="Officer" if role == Role.OFFICER else "Reviewer",
            last_name=authority.code.upper(),
        )
        if password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()
        new_users.append(user)
    User.objects.bulk_create(new_users)
    if password_hash:
        User.objects.filter(username__in=list(wanted)).update(password=password_hash)
    officers = dict(User.objects.filter(username__in=list(wanted)).values_list("authority_id", "id"))

    content_type = ContentType.objects.get_for_model(Notification)
    permission, _created = Permission.objects.get_or_create(
        content_type=content_type, codename="view_notification", defaults={"name": "Can view notification"}
    )

    countries = Country.objects.in_bulk(chosen)
    actors = {}
    for code in chosen:
        authority = focal[code]
        actors[code] = Actor(
            country=code,
            country_name=countries[code].name,
            authority_id=authority.pk,
            authority_code=authority.code,
            authority_name=authority.name,
            group_id=authority.group_id,
            officer_id=officers[authority.pk],
            reply_regime=countries[code].reply_regime,
            reply_median_days=min(25.0, max(1.5, rng.lognormvariate(math.log(6.0), 0.45))),
            never_share=min(0.6, 0.1 * rng.lognormvariate(-0.32, 0.8)),
            acknowledges=rng.uniform(0.3, 0.9),
        )
    exporters = _ranked(EXPORT_RANKING, actors, rng)
    importers = _ranked(IMPORT_RANKING, actors, rng)
    substances = []
    for pk, code in Substance.objects.order_by("pk").values_list("pk", "code"):
        weight, unit, median = SUBSTANCE_PROFILES.get(code, OTHER_SUBSTANCE)
        substances.append((weight, pk, code, unit, median))
    return World(
        actors=actors,
        exporters=exporters,
        export_cum=_zipf_cumulative(len(exporters), EXPORT_ZIPF),
        importers=importers,
        import_cum=_zipf_cumulative(len(importers), IMPORT_ZIPF),
        hubs=[code for code in TRANSIT_HUBS if code in actors] or list(actors),
        substances=[(pk, code, unit, median) for _w, pk, code, unit, median in substances],
        substance_cum=list(accumulate(s[0] for s in substances)),
        permission_id=permission.pk,
        countries=countries,
    )


# --- one batch ---------------------------------------------------------------------------

COLUMNS = {
    "notifications_notification": (
        "id", "reference", "status", "version", "national_reference",
        "exporter_name", "exporter_address", "exporter_licence_number",
        "importer_name", "importer_address", "importer_licence_number",
        "consignee_name", "consignee_address", "consignee_licence_number",
        "broker_name", "broker_address", "broker_licence_number",
        "point_of_exit", "point_of_entry", "mode_of_transport", "carrier", "expected_dispatch",
        "import_authorization_number", "end_use", "reply_due", "created_at", "updated_at",
        "submitted_at", "acknowledged_at", "replied_at", "first_response_at", "answered_on_time",
        "information_requested_at", "withdrawn_at", "next_chase_at", "chase_step", "created_by_id",
        "exporting_authority_id", "exporting_country_id", "importing_authority_id", "importing_country_id",
    ),
    "notifications_item": (
        "id", "notification_id", "position", "substance_id", "form", "trade_name",
        "concentration_percent", "quantity", "unit", "packages", "importing_country_id", "submitted_at",
        "notification_status",
    ),
    "notifications_transitcountry": ("id", "notification_id", "country_id", "position"),
    "notifications_response": ("id", "notification_id", "kind", "comment", "authority_id", "user_id", "created_at"),
    "notifications_event": (
        "id", "notification_id", "kind", "at", "actor_id", "actor_authority_id", "detail", "data", "hash",
    ),
    "notifications_risksignal": ("id", "notification_id", "kind", "raised_at", "resolved_at", "detail"),
    "chasing_chaserecord": ("id", "notification_id", "step", "due_at", "recorded_at", "messages_sent"),
    "messaging_outboxmessage": (
        "id", "notification_id", "topic", "payload", "created_at", "dispatched_at", "lease_until", "attempts",
        "dedup_key",
    ),
    "notifications_notificationgroupobjectpermission": ("id", "content_object_id", "group_id", "permission_id"),
}  # fmt: skip
COPY_ORDER = tuple(COLUMNS)


def check_columns() -> None:
    """Refuse clearly if a model gained a column this module does not write and the
    database cannot fill (NOT NULL without a default): COPY would fail half-way."""
    with connection.cursor() as cursor:
        for table, columns in COLUMNS.items():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
                [table],
            )
            missing = sorted({row[0] for row in cursor.fetchall()} - set(columns))
            if missing:
                raise SeedError(
                    f"{table} has columns seed_scale does not fill: {', '.join(missing)}. "
                    "Teach demo/scale.py about them."
                )


class Batch:
    """The COPY text of one batch, table by table, and the ids it allocated."""

    def __init__(self, next_ids: dict):
        self.next_ids = dict(next_ids)
        self.lines = {table: [] for table in COPY_ORDER}
        self.data = None
        self.notifications = 0

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, *fields) -> int:
        pk = self.new_id(table)
        self.lines[table].append("\t".join((str(pk), *fields)))
        return pk

    def seal(self) -> "Batch":
        """Turn the lines into one UTF-8 block per table (a fraction of the memory of a
        list of strings), ready to queue."""
        self.data = {table: ("\n".join(lines) + "\n").encode() for table, lines in self.lines.items() if lines}
        self.lines = None
        return self

    def buffer(self, table: str) -> io.BytesIO | None:
        block = self.data.get(table)
        return io.BytesIO(block) if block else None


class Simulator:
    """Turns notification number ``index`` (0-based, in filing order) into rows."""

    def __init__(self, world: World, params: Params, counters: dict):
        from authorities.models import working_calendars
        from chasing import sweep
        from notifications import clock

        self.world = world
        self.params = params
        self.now = params.now_epoch
        self.start = self.now - params.years * 365.25 * DAY
        self.span = self.now - self.start
        self.counters = counters  # (country, year) -> last reference number
        self.ladder = [(number, offset.total_seconds()) for number, _name, offset in clock.ladder()]
        self.step_events = {number: sweep.STEP_EVENTS[number] for number, _o in self.ladder}
        self._due_cache = {}
        # Every country's closures in one query, before the first batch; their public
        # holidays are cached per country and year (authorities.working_days).
        self._calendars = working_calendars(world.countries.values())
        self._parties = {}

    # -- small helpers ---------------------------------------------------------------------

    def reply_due(self, importing: str, sent_on: date) -> date:
        # Filings come in date order: remembering each country's last day is enough.
        cached = self._due_cache.get(importing)
        if cached is None or cached[0] != sent_on:
            country = self.world.countries[importing]
            due = country.reply_due_from(sent_on, calendar=self.calendar(importing)).due
            cached = self._due_cache[importing] = (sent_on, due)
        return cached[1]

    def calendar(self, importing: str):
        """The country's working days, read once per run: never a query per notification."""
        return self._calendars[importing]

    def parties(self, code: str, side: str) -> list:
        """A country's regular traders (the same few companies file again and again)."""
        key = (code, side)
        if key not in self._parties:
            rng = random.Random(f"{self.params.seed}:{code}:{side}")
            name = self.world.actors[code].country_name
            form = COMPANY_FORMS.get(code, "Ltd.")
            pool = []
            for number in range(1, 31):
                company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_TRADES)} {form}"
                city = rng.choice(PORTS.get(code, (name,))).split(" Airport")[0]
                address = esc(f"{rng.randint(1, 400)} {rng.choice(STREETS)}\n{city}\n{name}")
                licence = f"{code}-{'EXP' if side == 'exporter' else 'IMP'}-{number:04d}"
                pool.append((esc(company), address, licence))
            self._parties[key] = pool
        return self._parties[key]

    def place(self, code: str, mode: str, rng) -> str:
        ports = PORTS.get(code)
        if ports:
            return esc(rng.choice(ports))
        name = self.world.actors[code].country_name
        return esc(f"{name} International Airport" if mode == "air" else f"Port of {name}" if mode == "sea" else name)

    def chase_messages(self, n: SimpleNamespace, step: int) -> list:
        """The sweep's messages for one step, with its wording (chasing.sweep._messages_for)."""
        from chasing import sweep

        return sweep._messages_for(n, step, False)

    # -- the simulation --------------------------------------------------------------------

    def notification(
        self, index: int, rng: random.Random, batch: Batch, *, t0=None, importing=None, silent=False
    ) -> None:
        """One notification and its history up to ``now``. ``t0``, ``importing`` and
        ``silent`` (sent, never answered nor withdrawn) are for ``add_due``."""
        world, now = self.world, self.now
        if t0 is None:
            # Filing instants: evenly spread over the years (index order), at office hours.
            day_start = self.start + self.span * (index + rng.random()) / self.params.notifications
            t0 = (day_start // DAY) * DAY + rng.uniform(6.5, 17.5) * 3600
            if t0 > now:
                t0 = now - rng.uniform(60, 3600)
        exporting = importing
        while exporting is None or exporting == importing:
            exporting = world.exporters[bisect(world.export_cum, rng.random() * world.export_cum[-1])]
        while importing is None or importing == exporting:
            importing = world.importers[bisect(world.import_cum, rng.random() * world.import_cum[-1])]
        exp, imp = world.actors[exporting], world.actors[importing]
        filed_on = day_of(t0)
        year = filed_on.year
        key = (exporting, year)
        number = self.counters.get(key, 0) + 1
        self.counters[key] = number
        reference = f"{exporting}-{year}-{number:06d}"

        draft = not silent and t0 > now - 30 * DAY and rng.random() < 0.03
        mode = rng.choices(MODES_NAMES, cum_weights=MODES_CUM)[0]

        # Life of the notification: (at, kind, side, detail, data) events, in order.
        events = []  # (at, kind, actor side or None, detail, data)
        outbox = []  # (at, topic, payload, dedup_key)
        responses = []  # (at, kind, comment, side)
        chase = []  # (step, due_at, recorded_at)
        signal = None  # [raised_at, resolved_at]
        version = 1
        updated = t0
        status = "draft"
        submitted = acknowledged = replied = first_response = on_time = info_requested = withdrawn = None
        reply_due = None
        next_chase = None
        chase_step = 0
        n_id = batch.next_ids["notifications_notification"]
        stub = SimpleNamespace(
            reference=reference, reply_due=None, importing_country=world.countries[importing], pk=n_id
        )

        events.append((t0, "created", "exp", "", None))
        if not draft:
            status, submitted, version, updated = "awaiting_reply", t0, 2, t0
            reply_due = self.reply_due(importing, filed_on)
            events.append(
                (t0, "submitted", "exp", f"Reply due {_for_people(reply_due)}.", {"reply_due": str(reply_due)})
            )
            outbox.append((t0, "notification.received", None, None))

            # Phase A: awaiting the first answer (or a withdrawal, or nothing ever).
            deadline = deadline_of(reply_due)
            first_step_at = deadline + self.ladder[0][1]
            never = silent or rng.random() < imp.never_share
            t_first = kind_first = None
            if not never:
                if rng.random() < 0.05 and first_step_at - t0 > DAY:
                    # A question, asked before the reminder. (Asked after it, the sweep
                    # would later try to record the reminder a second time once the
                    # answer resets chase_step: see the report of issue 7.)
                    t_first = t0 + rng.uniform(0.2 * DAY, first_step_at - t0 - 0.1 * DAY)
                    kind_first = "information_requested"
                else:
                    t_first = t0 + rng.lognormvariate(math.log(imp.reply_median_days), 0.75) * DAY
                    kind_first = "objection" if rng.random() < 0.03 else "no_objection"
            t_withdraw = t0 + rng.uniform(0.5, 25) * DAY if rng.random() < 0.015 and not silent else None
            end_a = min(t for t in (t_first, t_withdraw, math.inf) if t is not None)

            if rng.random() < imp.acknowledges:
                t_ack = t0 + rng.lognormvariate(math.log(0.8), 0.9) * DAY
                if t_ack < end_a and t_ack <= now:
                    acknowledged, version, updated = t_ack, version + 1, t_ack
                    events.append((t_ack, "acknowledged", "imp", "", None))
                    outbox.append((t_ack, "notification.acknowledged", None, None))

            if rng.random() < 0.007:
                t_share = t0 + rng.uniform(0.1, 3) * DAY
                if t_share <= now and t_share < (t_withdraw or math.inf):
                    partner = exporting
                    while partner in (exporting, importing):
                        partner = world.exporters[bisect(world.export_cum, rng.random() * world.export_cum[-1])]
                    third = world.actors[partner]
                    batch.add(
                        "notifications_notificationgroupobjectpermission",
                        str(n_id),
                        str(third.group_id),
                        str(world.permission_id),
                    )
                    events.append((t_share, "shared", "exp", third.authority_name, {"authority": third.authority_code}))

            stub.reply_due = reply_due
            chase_step, next_chase, signal = self._chase(stub, deadline, 0, end_a, events, outbox, chase, signal, rng)

            if end_a <= now and end_a == t_withdraw:
                status, withdrawn, version, updated = "withdrawn", end_a, version + 1, end_a
                next_chase = None
                events.append((end_a, "withdrawn", "exp", rng.choice(WITHDRAWALS), None))
                outbox.append((end_a, "notification.withdrawn", None, None))
            elif end_a <= now:  # the first answer
                first_response, on_time = t_first, t_first < deadline
                if acknowledged is None:
                    acknowledged = t_first
                version, updated, next_chase = version + 1, t_first, None
                if kind_first == "information_requested":
                    status, info_requested = "information_requested", t_first
                    question = rng.choice(QUESTIONS)
                    responses.append((t_first, "information_requested", question, "imp"))
                    events.append((t_first, "information_requested", "imp", question, {"decision": kind_first}))
                    outbox.append((t_first, "notification.information_requested", None, None))
                    # Phase B: the exporter answers (or has not yet); the clock restarts.
                    t_answer = t_first + rng.lognormvariate(math.log(2.0), 0.8) * DAY
                    if t_answer <= now:
                        shift = math.ceil((t_answer - t_first) / DAY)
                        reply_due = reply_due + timedelta(days=shift)
                        stub.reply_due = reply_due
                        deadline = deadline_of(reply_due)
                        status, info_requested, version, updated = "awaiting_reply", None, version + 1, t_answer
                        chase_step = 0
                        answer = rng.choice(ANSWERS)
                        responses.append((t_answer, "information_provided", answer, "exp"))
                        events.append(
                            (
                                t_answer,
                                "information_provided",
                                "exp",
                                answer,
                                {"reply_due": reply_due.isoformat(), "clock_stopped_days": shift},
                            )
                        )
                        outbox.append((t_answer, "notification.received", None, None))
                        # Phase C: awaiting the final reply under the moved deadline.
                        t_final = (
                            None
                            if rng.random() < imp.never_share / 2
                            else t_answer + rng.lognormvariate(math.log(imp.reply_median_days / 2), 0.7) * DAY
                        )
                        end_c = t_final if t_final is not None else math.inf
                        chase_step, next_chase, signal = self._chase(
                            stub, deadline, 0, end_c, events, outbox, chase, signal, rng
                        )
                        if end_c <= now:
                            decision = "objection" if rng.random() < 0.1 else "no_objection"
                            status, replied, version, updated = decision, t_final, version + 1, t_final
                            next_chase = None
                            self._final(t_final, decision, rng, events, responses, outbox)
                            signal = self._resolve(signal, t_final, events)
                else:
                    status, replied = kind_first, t_first
                    self._final(t_first, kind_first, rng, events, responses, outbox)
                    signal = self._resolve(signal, t_first, events)

        # -- the rows ----------------------------------------------------------------------
        exporter = rng.choice(self.parties(exporting, "exporter"))
        importer = rng.choice(self.parties(importing, "importer"))
        consignee = rng.choice(self.parties(importing, "importer")) if rng.random() < 0.2 else ("", "", "")
        broker = rng.choice(self.parties(exporting, "exporter")) if rng.random() < 0.1 else ("", "", "")
        dispatch = filed_on + timedelta(days=rng.randint(10, 60))
        n_pk = batch.add(
            "notifications_notification",
            reference,
            status,
            str(version),
            f"{exporting}/{year}/{rng.randint(1, 99999):05d}",
            *exporter,
            *importer,
            *consignee,
            *broker,
            self.place(exporting, mode, rng),
            self.place(importing, mode, rng),
            mode,
            rng.choice(CARRIERS) if rng.random() < 0.6 else "",
            dispatch.isoformat(),
            f"IA-{importing}-{year}-{rng.randint(1, 99999):05d}" if rng.random() < 0.5 else "",
            rng.choice(END_USES),
            reply_due.isoformat() if reply_due else NULL,
            ts(t0),
            ts(updated),
            ts(submitted),
            ts(acknowledged),
            ts(replied),
            ts(first_response),
            NULL if on_time is None else ("t" if on_time else "f"),
            ts(info_requested),
            ts(withdrawn),
            ts(next_chase),
            str(chase_step),
            str(exp.officer_id),
            str(exp.authority_id),
            exporting,
            str(imp.authority_id),
            importing,
        )
        assert n_pk == n_id
        batch.notifications += 1
        sid = str(n_pk)

        for position in range(1, rng.choices((1, 2, 3, 4), cum_weights=ITEM_COUNTS_CUM)[0] + 1):
            pk, _code, unit, median = self.world.substances[
                bisect(self.world.substance_cum, rng.random() * self.world.substance_cum[-1])
            ]
            quantity = max(0.001, round(median * rng.lognormvariate(0, 0.9), 3 if median < 10 else 0))
            roll = rng.random()
            if roll < 0.85:
                form, trade, concentration = "substance", "", NULL
            else:
                form = "preparation" if roll < 0.95 else "mixture"
                trade = esc(
                    f"{rng.choice(COMPANY_WORDS)}{'-Tabs' if form == 'preparation' else ' Blend'} {rng.randint(1, 99)}"
                )
                concentration = f"{rng.uniform(0.5, 60):.3f}"
            batch.add(
                "notifications_item",
                sid,
                str(position),
                str(pk),
                form,
                trade,
                concentration,
                f"{quantity:.3f}",
                unit,
                f"{rng.randint(1, 80)} {rng.choice(PACKAGES)}",
                importing if submitted else NULL,  # the notification's, copied when sent
                ts(submitted),
                status,
            )

        if rng.random() < 0.3:
            route = []
            for _ in range(rng.choices((1, 2, 3), cum_weights=ROUTE_LENGTHS_CUM)[0]):
                hub = rng.choice(self.world.hubs)
                if hub not in (exporting, importing) and hub not in route:
                    route.append(hub)
            for position, hub in enumerate(route, start=1):
                batch.add("notifications_transitcountry", sid, hub, str(position))

        sides = {"exp": exp, "imp": imp}
        for at, kind, comment, side in responses:
            actor = sides[side]
            batch.add(
                "notifications_response",
                sid,
                kind,
                esc(comment),
                str(actor.authority_id),
                str(actor.officer_id),
                ts(at),
            )
        from notifications.timeline import GENESIS, content, link_hash

        events.sort(key=_first)  # stable: equal instants keep the services' order
        previous = GENESIS  # a new notification: its chain starts here, in the ids' order
        for at, kind, side, detail, data in events:
            actor = sides.get(side)
            instant = datetime.fromtimestamp(at, UTC)  # what ts(at) writes
            previous = link_hash(
                previous,
                content(
                    reference=reference,
                    kind=kind,
                    at=instant,
                    actor_id=actor.officer_id if actor else None,
                    actor_authority_id=actor.authority_id if actor else None,
                    detail=detail,
                    data=data,
                ),
            )
            batch.add(
                "notifications_event",
                sid,
                kind,
                instant.isoformat(),
                str(actor.officer_id) if actor else NULL,
                str(actor.authority_id) if actor else NULL,
                esc(detail),
                esc(json.dumps(data)) if data else "{}",
                previous,
            )
        if signal is not None:
            batch.add(
                "notifications_risksignal",
                sid,
                "silence",
                ts(signal[0]),
                ts(signal[1]),
                esc(signal[2]),
            )
        for step, due_at, recorded_at in chase:
            batch.add("chasing_chaserecord", sid, str(step), ts(due_at), ts(recorded_at), "t")
        outbox.sort(key=_first)
        for at, topic, payload, dedup_key in outbox:
            batch.add(
                "messaging_outboxmessage",
                sid,
                topic,
                esc(json.dumps(payload)) if payload else "{}",
                ts(at),
                ts(min(now, at + rng.uniform(0.5, 20))),
                NULL,
                "1",
                dedup_key or NULL,
            )

    def _chase(self, stub, deadline, chase_step, end, events, outbox, chase, signal, rng):
        """What the minute-by-minute sweep recorded while the notification awaited a reply
        from the phase's start until ``end`` (a reply or withdrawal) or ``now``; returns
        (chase_step, next_chase_at, silence signal)."""
        now = self.now
        next_chase = None
        for number, offset in self.ladder:
            if number <= chase_step:
                continue
            at = deadline + offset
            recorded = at + rng.uniform(1, 59)  # the sweep runs every minute
            if end <= now and recorded >= end:
                next_chase = None  # answered (or withdrawn) first: the service cleared it
                break
            if recorded > now:
                next_chase = at  # still to come (or due this minute): the sweep will see it
                break
            chase_step = number
            chase.append((number, at, recorded))
            events.append((at, self.step_events[number], None, "", None))
            if number == 2:
                signal = [at, None, f"No reply by {_for_people(stub.reply_due)}"]
            for topic, side, subject, body in self.chase_messages(stub, number):
                payload = {"to": side, "subject": subject.replace("%", "%%"), "body": body, "step": number}
                outbox.append((recorded, topic, payload, f"chase:{stub.pk}:{number}:{side}"))
        return chase_step, next_chase, signal

    @staticmethod
    def _final(at, decision, rng, events, responses, outbox):
        comment = rng.choice(OBJECTIONS) if decision == "objection" else ""
        responses.append((at, decision, comment, "imp"))
        events.append((at, "replied", "imp", comment, {"decision": decision}))
        outbox.append((at, "notification.replied", None, None))

    @staticmethod
    def _resolve(signal, at, events):
        if signal is not None and signal[1] is None:
            signal[1] = at
            events.append((at, "silence_resolved", None, "", None))
        return signal


def _first(row):
    return row[0]


MODES_NAMES = [m for m, _w in MODES]
MODES_CUM = list(accumulate(w for _m, w in MODES))
ITEM_COUNTS_CUM = list(accumulate((50, 30, 15, 5)))
ROUTE_LENGTHS_CUM = list(accumulate((75, 20, 5)))


# --- due notifications, for the chase sweep's benchmark -----------------------------------

DUE_STEPS = ((1, 50), (2, 25), (3, 15), (4, 10))  # (the step that falls due, weight)


def add_due(params: Params, world: World, *, count: int, seed: int = 7) -> dict:
    """Add ``count`` notifications awaiting a reply whose next chase step (a reminder for
    half of them, then overdue, escalation, persistent silence) fell due at the last
    midnight before ``params.now`` and has not been swept yet; their earlier steps are
    recorded. A sweep as of ``params.now`` then has exactly these to chase (plus any seeded
    step falling due in the minute before ``now``). Returns what ``remove_due`` needs."""
    now = params.now_epoch
    midnight = (now // DAY) * DAY
    rng = random.Random(f"{params.seed}:due:{seed}")
    with connection.cursor() as cursor:
        counters = _counters(cursor)
        simulator = Simulator(world, params, dict(counters))
        simulator.now = midnight - 60  # the history stops just before the step falls due
        batch = Batch(_next_ids(cursor))
        first_ids = dict(batch.next_ids)
        offsets = dict(simulator.ladder)
        steps, weights = zip(*DUE_STEPS, strict=True)
        made = 0
        while made < count:
            step = rng.choices(steps, weights=weights)[0]
            importing = world.importers[bisect(world.import_cum, rng.random() * world.import_cum[-1])]
            reply_due = day_of(midnight - offsets[step] - 1)
            country = world.countries[importing]
            calendar = simulator.calendar(importing)
            sent_on = next(
                (
                    reply_due - timedelta(days=back)
                    for back in range(1, 3 * country.reply_period_days + 5)
                    if country.reply_due_from(reply_due - timedelta(days=back), calendar=calendar).due == reply_due
                ),
                None,
            )
            if sent_on is None:
                continue  # a weekend or holiday under a working-day period: no filing day gives this date
            t0 = (sent_on.toordinal() - EPOCH_ORDINAL) * DAY + rng.uniform(6.5, 17.5) * 3600
            simulator.notification(0, rng, batch, t0=t0, importing=importing, silent=True)
            made += 1
        state = read_state(cursor)
        with transaction.atomic():
            _write_batch(cursor, batch.seal(), simulator.counters, state)
    return {
        "first_ids": first_ids,
        "last_ids": {table: batch.next_ids[table] - 1 for table in COPY_ORDER},
        "counters": sorted((c, y, last) for (c, y), last in counters.items()),
        "at": datetime.fromtimestamp(midnight, UTC).isoformat(),
    }


def remove_due(added: dict) -> None:
    """Delete what ``add_due`` added (and what a sweep wrote about it), and put the
    reference counters back."""
    import pgtrigger

    from notifications.timeline import NO_DELETE

    first = added["first_ids"]["notifications_notification"]
    last = added["last_ids"]["notifications_notification"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM messaging_webhookdelivery WHERE message_id IN (SELECT id FROM "
            "messaging_outboxmessage WHERE notification_id BETWEEN %s AND %s)",
            [first, last],
        )
        for table, column in CHILDREN:
            if table == "notifications_event":
                # The timeline is append-only (a trigger refuses DELETE): these are events
                # add_due wrote, and the sweep's about them, for a benchmark; the trigger is
                # switched off for this one statement, bounded by add_due's notification ids.
                with pgtrigger.ignore(NO_DELETE):
                    cursor.execute(f"DELETE FROM {table} WHERE {column} BETWEEN %s AND %s", [first, last])
                continue
            cursor.execute(f"DELETE FROM {table} WHERE {column} BETWEEN %s AND %s", [first, last])
        cursor.execute("DELETE FROM notifications_notification WHERE id BETWEEN %s AND %s", [first, last])
        countries, years, lasts = zip(*added["counters"], strict=True) if added["counters"] else ((), (), ())
        cursor.execute(
            "UPDATE notifications_referencecounter AS c SET last = v.last FROM unnest(%s::varchar[], "
            "%s::smallint[], %s::integer[]) AS v(country_id, year, last) "
            "WHERE c.country_id = v.country_id AND c.year = v.year",
            [list(countries), list(years), list(lasts)],
        )


CHILDREN = (
    ("notifications_item", "notification_id"),
    ("notifications_transitcountry", "notification_id"),
    ("notifications_response", "notification_id"),
    ("notifications_event", "notification_id"),
    ("notifications_risksignal", "notification_id"),
    ("chasing_chaserecord", "notification_id"),
    ("messaging_outboxmessage", "notification_id"),
    ("notifications_notificationgroupobjectpermission", "content_object_id"),
    ("chasing_followup", "notification_id"),
)


# --- the run -----------------------------------------------------------------------------


class Progress:
    """A carriage-return progress bar on a stream (stderr): done/total, rate, ETA."""

    def __init__(self, total: int, done: int = 0, stream=None, width: int = 30):
        self.total, self.done, self.width = total, done, width
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.first = done
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.draw()

    def update(self, done: int) -> None:
        self.done = done
        self.draw()

    def draw(self, end="") -> None:
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0
        filled = int(self.width * self.done / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"[{bar}] {self.done:,}/{self.total:,} notifications  {rate:,.0f}/s  "
            f"elapsed {timedelta(seconds=int(elapsed))}  left {timedelta(seconds=int(left))}"
        )
        self.stream.write(("\r" if self.tty else "") + line + (end or ("" if self.tty else "\n")))
        self.stream.flush()

    def close(self) -> None:
        self.draw(end="\n")


def _next_ids(cursor) -> dict:
    ids = {}
    for table in COPY_ORDER:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        ids[table] = cursor.fetchone()[0]
    return ids


def _counters(cursor) -> dict:
    cursor.execute("SELECT country_id, year, last FROM notifications_referencecounter")
    return {(country, year): last for country, year, last in cursor.fetchall()}


def _write_batch(cursor, batch: Batch, counters: dict, state: State) -> None:
    for table in COPY_ORDER:
        buffer = batch.buffer(table)
        if buffer is not None:
            cursor.copy_expert(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN", buffer, 1 << 20)
    # The reference counters, so the services number the next filing after the seeded ones.
    keys = sorted(counters)
    cursor.execute(
        "INSERT INTO notifications_referencecounter (country_id, year, last) "
        "SELECT * FROM unnest(%s::varchar[], %s::smallint[], %s::integer[]) "
        "ON CONFLICT (country_id, year) DO UPDATE SET last = GREATEST(notifications_referencecounter.last, "
        "EXCLUDED.last)",
        [[c for c, _y in keys], [y for _c, y in keys], [counters[k] for k in keys]],
    )
    # Move every sequence past the keys allocated here.
    for table in COPY_ORDER:
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, batch.next_ids[table]])
    write_state(cursor, state)


def resolve(params: Params) -> Params:
    """The parameters with ``now`` fixed: the one of the run being continued, if any."""
    if params.now:
        return params
    with connection.cursor() as cursor:
        state = read_state(cursor)
    if state is not None and state.notifications_done:
        candidate = Params(**{**asdict(params), "now": state.params.now})
        if candidate == state.params:
            return candidate
    now = datetime.now(UTC).replace(microsecond=0)
    return Params(**{**asdict(params), "now": now.isoformat()})


# Foreign keys of the seeded rows, checked at the end of a run loaded without the
# per-row trigger checks (see _session): (table, column, referenced table, its key).
REFERENCES = (
    ("notifications_notification", "created_by_id", "accounts_user", "id"),
    ("notifications_notification", "exporting_authority_id", "authorities_authority", "id"),
    ("notifications_notification", "importing_authority_id", "authorities_authority", "id"),
    ("notifications_notification", "exporting_country_id", "authorities_country", "code"),
    ("notifications_notification", "importing_country_id", "authorities_country", "code"),
    ("notifications_item", "notification_id", "notifications_notification", "id"),
    ("notifications_item", "substance_id", "authorities_substance", "id"),
    ("notifications_transitcountry", "notification_id", "notifications_notification", "id"),
    ("notifications_transitcountry", "country_id", "authorities_country", "code"),
    ("notifications_response", "notification_id", "notifications_notification", "id"),
    ("notifications_response", "user_id", "accounts_user", "id"),
    ("notifications_response", "authority_id", "authorities_authority", "id"),
    ("notifications_event", "notification_id", "notifications_notification", "id"),
    ("notifications_event", "actor_id", "accounts_user", "id"),
    ("notifications_event", "actor_authority_id", "authorities_authority", "id"),
    ("notifications_risksignal", "notification_id", "notifications_notification", "id"),
    ("chasing_chaserecord", "notification_id", "notifications_notification", "id"),
    ("messaging_outboxmessage", "notification_id", "notifications_notification", "id"),
    ("notifications_notificationgroupobjectpermission", "content_object_id", "notifications_notification", "id"),
    ("notifications_notificationgroupobjectpermission", "group_id", "auth_group", "id"),
    ("notifications_notificationgroupobjectpermission", "permission_id", "auth_permission", "id"),
)


def _session(cursor) -> bool:
    """Settings of a loading connection. Commits need not wait for the disk (a crash loses
    at most the last batches, which a continued run writes again). As a superuser, the
    foreign-key triggers are skipped (``session_replication_role = replica``: half the
    time of a load goes to queueing and running one check per row); the references are
    then verified in bulk at the end (``verify``). Returns whether they were skipped."""
    cursor.execute("SET synchronous_commit TO off")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET session_replication_role = replica")
        return True
    return False


def verify(cursor, first_ids: dict) -> None:
    """Every reference of the rows written from ``first_ids`` on points at a row (one
    anti-join per foreign key, what PostgreSQL's own check would have found)."""
    broken = []
    for table, column, target, key in REFERENCES:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} AS t WHERE t.id >= %s AND t.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {target} AS r WHERE r.{key} = t.{column})",
            [first_ids[table]],
        )
        missing = cursor.fetchone()[0]
        if missing:
            broken.append(f"{table}.{column}: {missing} rows point nowhere")
    if broken:
        raise SeedError("Seeded rows with broken references (a bug in demo/scale.py): " + "; ".join(broken))


class _Writer(threading.Thread):
    """Loads batches on a connection of its own while the main thread generates the next
    one: Python and PostgreSQL each keep a core busy. At most one batch waits in the queue,
    so memory stays flat."""

    def __init__(self):
        super().__init__(name="seed_scale writer", daemon=True)
        self.queue = queue.Queue(maxsize=1)
        self.error = None
        self.written = None
        self.unchecked = False

    def run(self):
        try:
            with connection.cursor() as cursor:
                self.unchecked = _session(cursor)
                while (item := self.queue.get()) is not None:
                    batch, counters, state = item
                    with transaction.atomic():
                        _write_batch(cursor, batch, counters, state)
                    self.written = state
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.error = error
        finally:
            connection.close()

    def put(self, item) -> None:
        while True:
            if self.error is not None or not self.is_alive():
                raise self.error or SeedError("The writer stopped.")
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Wait for the queued batches, then re-raise the writer's error, if any."""
        while self.is_alive():
            try:
                self.queue.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop after the batch being written (the main thread failed)."""
        try:
            while True:
                self.queue.get_nowait()
        except queue.Empty:
            pass
        self.queue.put(None)
        self.join()


def run(params: Params, *, world: World, stream=None, progress: bool = True) -> State:
    """Seed up to ``params.notifications`` (``params.now`` fixed, see ``resolve``); returns
    the final state. Raises SeedError when the database holds data this run cannot continue."""
    with connection.cursor() as cursor:
        state = read_state(cursor)
        cursor.execute("SELECT EXISTS (SELECT 1 FROM notifications_notification)")
        has_rows = cursor.fetchone()[0]
        if state is not None and not has_rows:
            state = None  # the tables were emptied (a flush, a TRUNCATE) since: start again
        if state is None and has_rows:
            raise SeedError(
                "The database already holds notifications that seed_scale did not write (or whose record "
                "was lost). Run with --reset to empty the notification tables first."
            )
        if state is not None and state.params != params:
            theirs, ours = state.params.comparable(), params.comparable()
            differing = ", ".join(f"{k}={theirs[k]!r} (asked {ours[k]!r})" for k in ours if theirs[k] != ours[k])
            raise SeedError(
                f"The database was seeded with other parameters: {differing}. Run again with the same "
                "parameters (and --now) to continue, or with --reset to start again."
            )
        if state is None:
            state = State(params=params)
        check_columns()
        first_ids = _next_ids(cursor)
        simulator = Simulator(world, params, _counters(cursor))

    total_batches = math.ceil(params.notifications / params.batch)
    bar = Progress(params.notifications, state.notifications_done, stream) if progress else None
    writer = _Writer()
    writer.start()
    next_ids = first_ids
    try:
        k = state.batches_done
        while k < total_batches:
            first, last = k * params.batch, min(params.notifications, (k + 1) * params.batch)
            rng = random.Random(f"{params.seed}:batch:{k}")
            batch = Batch(next_ids)
            for index in range(first, last):
                simulator.notification(index, rng, batch)
            next_ids = batch.next_ids
            k += 1
            done = State(params=params, batches_done=k, notifications_done=last)
            writer.put((batch.seal(), dict(simulator.counters), done))
            del batch
            if bar and writer.written is not None:
                bar.update(writer.written.notifications_done)
        writer.finish()
    except BaseException:
        writer.abandon()
        raise
    finally:
        if bar:
            if writer.written is not None:
                bar.done = writer.written.notifications_done
            bar.close()
    state = writer.written or state
    with connection.cursor() as cursor:
        if writer.unchecked:
            verify(cursor, first_ids)
        # As autovacuum would in steady state: statistics, and the visibility map that
        # index-only scans need (a fresh bulk load has none). A few seconds at a million.
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(SEEDED_TABLES)}")
    return state
