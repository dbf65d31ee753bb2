"""Demo data for a development machine: authorities in six countries, the INCB
secretariat, one user per role with a known password, and two declared policies.

Idempotent: a second run creates nothing, and leaves the data as the first run made it
(a demo user whose password was changed, or who was deactivated, gets the demo password
back and is active again), so the credentials it prints always work. It refuses to run
when PEN_ENV=production: known passwords have no place on a real installation.

The steps are separate functions run in order by ``seed_demo()``; later demo data (such
as notifications between these authorities) is one more step in that sequence.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User
from authorities.models import Authority, Country, PeriodKind, ReplyRegime
from authorities.services import create_authority, load_reference_data, update_country_policy

# One password for every demo user: printed by the command, and long and uncommon enough to
# pass the installation's password validators, so the demo shows the real policy.
DEMO_PASSWORD = "pen-demo-precursors-2026"
# A fixed salt makes the demo hash deterministic: re-running the command compares hashes
# instead of hashing once per user (each hash deliberately takes a fraction of a second).
DEMO_SALT = "pendemoseedsalt"


@dataclass(frozen=True)
class DemoAuthority:
    code: str
    name: str
    email: str
    country: str | None  # None: the INCB secretariat
    address: str
    phone: str
    # (role, username, first name, last name); e-mail is username@ the authority's domain.
    people: tuple[tuple[str, str, str, str], ...]

    @property
    def domain(self) -> str:
        return self.email.split("@", 1)[1]


def _national(prefix, officer, admin, viewer):
    return (
        (Role.OFFICER, f"{prefix}-officer", *officer),
        (Role.ADMINISTRATOR, f"{prefix}-admin", *admin),
        (Role.VIEWER, f"{prefix}-viewer", *viewer),
    )


# Order matters: the first authority of a country becomes its focal point.
# E-mail domains end in .example (RFC 2606), so no demo e-mail can reach a real office.
AUTHORITIES = (
    DemoAuthority(
        code="de-bopst",
        name="Federal Opium Agency (Bundesopiumstelle), BfArM",
        email="precursors@bfarm.de.example",
        country="DE",
        address="Kurt-Georg-Kiesinger-Allee 3\n53175 Bonn\nGermany",
        phone="+49 228 99307-0",
        people=_national("de", ("Katrin", "Weber"), ("Jens", "Hoffmann"), ("Miriam", "Schulz")),
    ),
    DemoAuthority(
        code="de-gues",
        name="Joint Precursor Monitoring Unit (GÜS) of Customs and the Federal Criminal Police Office",
        email="gues@zoll.de.example",
        country="DE",
        address="Bergisch Gladbacher Straße 837\n51069 Köln\nGermany",
        phone="+49 221 672-0",
        people=_national("de-gues", ("Stefan", "Braun"), ("Anja", "Keller"), ("Lukas", "Vogel")),
    ),
    DemoAuthority(
        code="gh-fda",
        name="Food and Drugs Authority",
        email="pen@fdaghana.gov.gh.example",
        country="GH",
        address="Nelson Mandela Avenue, Shiashie\nP.O. Box CT 2783, Cantonments\nAccra\nGhana",
        phone="+233 302 233 200",
        people=_national("gh", ("Ama", "Owusu"), ("Kwame", "Mensah"), ("Efua", "Boateng")),
    ),
    DemoAuthority(
        code="nl-cibg",
        name="Farmatec, CIBG (Ministry of Health, Welfare and Sport)",
        email="precursoren@cibg.nl.example",
        country="NL",
        address="Rijnstraat 50\n2515 XP Den Haag\nNetherlands",
        phone="+31 70 340 7911",
        people=_national("nl", ("Sanne", "de Vries"), ("Pieter", "Jansen"), ("Femke", "Bakker")),
    ),
    DemoAuthority(
        code="in-ncb",
        name="Narcotics Control Bureau",
        email="pen@ncb.gov.in.example",
        country="IN",
        address="West Block No. 1, Wing No. 5, R. K. Puram\nNew Delhi 110066\nIndia",
        phone="+91 11 2610 0373",
        people=_national("in", ("Priya", "Sharma"), ("Arjun", "Nair"), ("Kavita", "Iyer")),
    ),
    DemoAuthority(
        code="br-anvisa",
        name="Brazilian Health Regulatory Agency (ANVISA)",
        email="precursores@anvisa.gov.br.example",
        country="BR",
        address="SIA Trecho 5, Área Especial 57\nBrasília, DF 71205-050\nBrazil",
        phone="+55 61 3462 6000",
        people=_national("br", ("Mariana", "Souza"), ("Rafael", "Oliveira"), ("Beatriz", "Lima")),
    ),
    DemoAuthority(
        code="au-odc",
        name="Office of Drug Control, Department of Health and Aged Care",
        email="precursors@health.gov.au.example",
        country="AU",
        address="GPO Box 9848\nCanberra ACT 2601\nAustralia",
        phone="+61 2 6289 1555",
        people=_national("au", ("Emily", "Nguyen"), ("James", "Mitchell"), ("Olivia", "Harris")),
    ),
    DemoAuthority(
        code="incb",
        name="INCB secretariat",
        email="pen@incb.org.example",
        country=None,
        address="Vienna International Centre\nWagramer Straße 5, P.O. Box 500\n1400 Vienna\nAustria",
        phone="+43 1 26060 0",
        people=(
            (Role.REVIEWER, "incb-reviewer", "Elena", "Petrova"),
            (Role.ADMINISTRATOR, "incb-admin", "Daniel", "Moreau"),
        ),
    ),
)

# Declared reply policies (INCB records them from the countries' declarations).
POLICIES = {
    "GH": {
        "reply_regime": ReplyRegime.TACIT_CONSENT,
        "reply_period_days": 10,
        "reply_period_kind": PeriodKind.WORKING,
    },
    "AU": {
        "reply_regime": ReplyRegime.TACIT_CONSENT,
        "reply_period_days": 5,
        "reply_period_kind": PeriodKind.WORKING,
    },
}


@dataclass
class Credential:
    username: str
    password: str
    authority: str
    role: str


@dataclass
class SeedReport:
    authorities: dict[str, Authority]
    credentials: list[Credential]
    created: list[str]
    updated: list[str]


def seed_authorities(report: SeedReport) -> None:
    for spec in AUTHORITIES:
        authority, created = create_authority(
            code=spec.code,
            name=spec.name,
            email=spec.email,
            country_code=spec.country,
            incb=spec.country is None,
            address=spec.address,
            phone=spec.phone,
        )
        report.authorities[spec.code] = authority
        if created:
            report.created.append(f"authority {spec.code}")


def seed_users(report: SeedReport) -> None:
    demo_hash = make_password(DEMO_PASSWORD, salt=DEMO_SALT)
    for spec in AUTHORITIES:
        authority = report.authorities[spec.code]
        for role, username, first_name, last_name in spec.people:
            wanted = {
                "email": f"{username}@{spec.domain}",
                "first_name": first_name,
                "last_name": last_name,
                "authority_id": authority.pk,
                "role": role,
                "is_active": True,
                "password": demo_hash,
            }
            user = User.objects.filter(username=username).first()
            if user is None:
                User.objects.create(username=username, **wanted)
                report.created.append(f"user {username}")
            else:
                dirty = [field for field, value in wanted.items() if getattr(user, field) != value]
                if dirty:
                    for field in dirty:
                        setattr(user, field, wanted[field])
                    user.save(update_fields=[f.removesuffix("_id") for f in dirty])
                    report.updated.append(f"user {username} ({', '.join(dirty)})")
            report.credentials.append(Credential(username, DEMO_PASSWORD, authority.code, str(Role(role).label)))


def seed_policies(report: SeedReport) -> None:
    for code, policy in POLICIES.items():
        country = Country.objects.get(code=code)
        if any(getattr(country, field) != value for field, value in policy.items()):
            update_country_policy(country=country, **policy)
            report.updated.append(f"policy of {code}")


def seed_estimates(report: SeedReport) -> None:
    """Annual legitimate requirements (issue 13) for this year, recorded by INCB before the
    notifications are filed: Ghana's ephedrine estimate (280 kg) is exceeded by the demo's
    open notification to Ghana (the filing page and the importer show why), India's are
    ample. Only when there are none yet."""
    from decimal import Decimal

    from django.utils import timezone

    from monitoring import services as estimates
    from monitoring.models import Estimate

    if Estimate.objects.exists():
        return
    now = timezone.now()
    reviewer = User.objects.get(username="incb-reviewer")
    for country, substance, kg in (
        ("GH", "ephedrine", "280"),
        ("GH", "pseudoephedrine", "150"),
        ("GH", "p-2-p", "0"),
        ("GH", "mdp2p", "0"),
        ("IN", "ephedrine", "25000"),
        ("IN", "pseudoephedrine", "40000"),
    ):
        estimates.record_estimate(
            actor=reviewer,
            data=estimates.EstimateData(country=country, substance=substance, year=now.year, quantity=Decimal(kg)),
            now=now,
        )
    Estimate.objects.update(flags_recomputed_at=now)  # nothing filed yet: nothing to recompute
    report.created.append("demo estimates")


def seed_notifications(report: SeedReport) -> None:
    """A few notifications in every state, filed through the services so their timeline,
    outbox and chase records are real. Only when the demo authorities have none yet; the
    older ones are filed "in the past" (``now`` is passed in) so some are overdue."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from chasing.sweep import sweep
    from notifications import services
    from notifications.models import Notification
    from notifications.services import ItemData, NotificationData, PartyData

    if Notification.objects.exists():
        return
    now = timezone.now()
    officer = {
        code: User.objects.get(username=f"{code.split('-')[0]}-officer")
        for code in ("de-bopst", "in-ncb", "gh-fda", "nl-cibg")
    }

    def data(importing, when, *, substance="ephedrine", quantity="250.000", transit=()):
        return NotificationData(
            importing_country=importing,
            exporter=PartyData("Rheinchemie Export GmbH", "Industriestrasse 1, 20095 Hamburg", "DE-EXP-2231"),
            importer=PartyData("Coastal Pharmaceuticals Ltd", "12 Harbour Road", "IMP-7781"),
            items=[ItemData(substance=substance, quantity=Decimal(quantity), unit="kg", packages="10 drums")],
            point_of_exit="Hamburg",
            point_of_entry="Tema",
            mode_of_transport="sea",
            expected_dispatch=(when + timedelta(days=20)).date(),
            end_use="Manufacture of cough and cold medicines",
            transit_countries=list(transit),
            national_reference=f"EXP-{when:%Y%m%d}",
        )

    def filed(code, importing, days_ago, **kwargs):
        when = now - timedelta(days=days_ago)
        return services.file_notification(
            actor=officer[code], data=data(importing, when, **kwargs), draft=False, now=when
        ), when

    awaiting, _when = filed("de-bopst", "GH", 2, transit=["NL"])
    replied, when = filed("de-bopst", "IN", 12, substance="pseudoephedrine", quantity="80.000")
    services.acknowledge(actor=officer["in-ncb"], notification=replied, now=when + timedelta(days=1))
    services.respond(
        actor=officer["in-ncb"], notification=replied, decision="no_objection", now=when + timedelta(days=3)
    )
    asked, when = filed("in-ncb", "DE", 5, substance="acetic-anhydride", quantity="1200.000")
    services.respond(
        actor=officer["de-bopst"],
        notification=asked,
        decision="information_requested",
        comment="Please send the end-user declaration of the importer.",
        now=when + timedelta(days=1),
    )
    objected, when = filed("nl-cibg", "GH", 20, substance="potassium-permanganate", quantity="500.000")
    services.respond(
        actor=officer["gh-fda"],
        notification=objected,
        decision="objection",
        comment="The importer holds no valid licence.",
        now=when + timedelta(days=4),
    )
    filed("de-bopst", "GH", 40, substance="safrole", quantity="20.000")  # never answered: overdue
    filed("in-ncb", "GH", 25, quantity="40.000")  # never answered: overdue
    services.file_notification(actor=officer["de-bopst"], data=data("IN", now), draft=True, now=now)
    sweep(now=now)
    report.created.append("demo notifications")


def seed_incidents(report: SeedReport) -> None:
    """A few incidents (issue 11), reported through the services; the seizure in the
    Netherlands names the demo importer as spelled differently ("COASTAL PHARMACEUTICALS
    LIMITED"), so backtracking finds the demo notifications to Ghana and flags the open one.
    Only when there are none yet."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from incidents import flags
    from incidents import services as incident_services
    from incidents.models import Incident
    from incidents.services import IncidentData, PartyData, SubstanceData

    if Incident.objects.exists():
        return
    now = timezone.now()
    officer = {code: User.objects.get(username=f"{code.split('-')[0]}-officer") for code in ("nl-cibg", "gh-fda")}
    seizure = incident_services.report(
        actor=officer["nl-cibg"],
        data=IncidentData(
            kind="seizure",
            occurred_on=(now - timedelta(days=3)).date(),
            description="120 kg of ephedrine found in drums declared as sodium chloride, in a container "
            "transhipped in Rotterdam on its way to Tema.",
            modus_operandi="Mis-declared goods; the consignee's address is a freight forwarder's.",
            substances=[SubstanceData(substance="ephedrine", quantity=Decimal("120.000"), unit="kg")],
            parties=[
                PartyData(
                    role="importer",
                    name="COASTAL PHARMACEUTICALS LIMITED",
                    address="12 Harbour Road, Tema",
                    country="GH",
                ),
                PartyData(role="carrier", name="Blue Line Shipping B.V.", address="Rotterdam", country="NL"),
            ],
            route=["DE", "NL", "GH"],
        ),
        now=now - timedelta(days=2),
    )
    incident_services.report(
        actor=officer["gh-fda"],
        data=IncidentData(
            kind="diversion_attempt",
            occurred_on=(now - timedelta(days=30)).date(),
            description="An order of 500 kg of potassium permanganate by a company with no licence.",
            substances=[SubstanceData(substance="potassium-permanganate", quantity=Decimal("500.000"), unit="kg")],
            parties=[PartyData(role="importer", name="Volta Cleaning Supplies", address="Accra", country="GH")],
            route=["NL", "GH"],
            visibility="all",
        ),
        now=now - timedelta(days=29),
    )
    # The background flagging, done now so that the demo shows it at once.
    flags.flag_open_notifications(seizure.pk, now=now)
    report.created.append("demo incidents")


# The steps, in order. Each takes the report (authorities and users made so far) and is
# idempotent on its own.
STEPS = (seed_authorities, seed_users, seed_policies, seed_estimates, seed_notifications, seed_incidents)


@transaction.atomic
def seed_demo() -> SeedReport:
    if settings.PRODUCTION:
        raise CommandError("seed_demo refuses to run with PEN_ENV=production: it creates users with known passwords.")
    load_reference_data()
    report = SeedReport(authorities={}, credentials=[], created=[], updated=[])
    for step in STEPS:
        step(report)
    return report


def credentials_table(credentials: list[Credential]) -> str:
    header = Credential("username", "password", "authority", "role")
    rows = [header, *credentials]
    widths = [max(len(getattr(row, field)) for row in rows) for field in ("username", "password", "authority", "role")]

    def line(row):
        cells = (row.username, row.password, row.authority, row.role)
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in credentials)])


class Command(BaseCommand):
    help = (
        "Create demo authorities (six countries and the INCB secretariat), one user per role with a "
        "known password, and demo reply policies; print the credentials. Idempotent. Refused in production."
    )

    def handle(self, *args, **options):
        try:
            report = seed_demo()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if report.created or report.updated:
            self.stdout.write(
                f"demo data: {len(report.created)} created, {len(report.updated)} updated to the demo state"
            )
        else:
            self.stdout.write("demo data already up to date")
        self.stdout.write("")
        self.stdout.write("Demo credentials (development only):")
        self.stdout.write(credentials_table(report.credentials))
