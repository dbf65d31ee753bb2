from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chasing.sweep import sweep


class Command(BaseCommand):
    help = (
        "Run the chasing sweep once, now or as of --at (ISO 8601), e.g. to replay a period "
        "after downtime. Every due step is recorded once, dated at its own time; only each "
        "notification's latest step sends messages (see chasing/sweep.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--at", help="the instant to sweep as of, ISO 8601 (default: now)")

    def handle(self, *args, **options):
        now = timezone.now()
        if options["at"]:
            at = parse_datetime(options["at"])
            if at is None:
                try:
                    at = datetime.fromisoformat(options["at"])
                except ValueError as error:
                    raise CommandError(f"--at must be an ISO 8601 instant, not {options['at']!r}") from error
            if timezone.is_naive(at):
                at = at.replace(tzinfo=UTC)
            if at > now:
                raise CommandError("--at cannot be in the future: steps would be recorded before their time.")
            now = at
        result = sweep(now=now)
        self.stdout.write(
            f"swept as of {now.isoformat()}: {result['candidates']} notifications, {result['steps']} steps recorded"
        )
