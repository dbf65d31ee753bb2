import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.dateparse import parse_datetime

from demo import scale


class Command(BaseCommand):
    help = (
        "Fill PostgreSQL with realistic notifications at scale, fast (COPY in batches): about "
        "--countries countries with a competent authority and an officer each, a few heavy exporters "
        "and a long tail, items, transit routes, replies on time, late and never, requests for "
        "information, withdrawals, shares, and the chase sweep's records, as of now. An interrupted "
        "run continues when run again with the same parameters; --reset starts again. For benchmarks "
        "(bench/), never for a real installation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--notifications", type=int, required=True, help="how many notifications in all")
        parser.add_argument("--countries", type=int, default=200, help="countries with an authority (default 200)")
        parser.add_argument("--years", type=int, default=5, help="years of history up to now (default 5)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--batch", type=int, default=20000, help="notifications per COPY batch (default 20000)")
        parser.add_argument(
            "--now", help="the instant the data is as of, ISO 8601 (default: now; a continued run keeps its own)"
        )
        parser.add_argument(
            "--password",
            help="a password for every seeded officer (default: unusable passwords; benchmarks set their own)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="empty the notification tables first (every notification!)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_scale writes made-up notifications: it never runs with PEN_ENV=production.")
        if connection.vendor != "postgresql":
            raise CommandError(
                f"seed_scale needs PostgreSQL (it loads with COPY); this database is {connection.vendor}. "
                "Set DATABASE_URL=postgres://..."
            )
        for name in ("notifications", "countries", "years", "batch"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        now = ""
        if options["now"]:
            parsed = parse_datetime(options["now"])
            if parsed is None or parsed.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 instant with its offset, e.g. 2026-03-01T12:00:00+00:00")
            now = parsed.isoformat()
        started = time.monotonic()
        if options["reset"]:
            with connection.cursor() as cursor:
                scale.reset(cursor)
            self.stdout.write("emptied the notification tables")
        params = scale.resolve(
            scale.Params(
                notifications=options["notifications"],
                countries=options["countries"],
                years=options["years"],
                seed=options["seed"],
                batch=options["batch"],
                now=now,
            )
        )
        password_hash = make_password(options["password"]) if options["password"] else None
        world = scale.build_world(params, password_hash=password_hash)
        self.stdout.write(
            f"{len(world.actors)} countries with an authority; seeding {params.notifications:,} notifications "
            f"over {params.years} years as of {params.now} (seed {params.seed}, batches of {params.batch:,})"
        )
        try:
            state = scale.run(params, world=world, progress=not options["no_progress"])
        except scale.SeedError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        self.stdout.write(f"done: {state.notifications_done:,} notifications in {elapsed:.1f} s")
