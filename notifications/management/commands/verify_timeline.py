"""``manage.py verify_timeline [--reference REF]``: recompute the hash chain of every
notification's timeline (or one), print each broken link and how many events were checked;
exit non-zero when a link is broken. The canonical form is notifications.timeline's."""

from django.core.management.base import BaseCommand, CommandError

from notifications.models import Notification
from notifications.timeline import Verifier


class Command(BaseCommand):
    help = (
        "Recompute the timeline's hash chains (every notification, or --reference REF). Prints every broken link "
        "(reference, event id, expected and stored hash) and exits with status 1 if there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reference", help="check only this notification (e.g. DE-2026-000042)")

    def handle(self, *args, reference=None, **options):
        if reference is not None and not Notification.objects.filter(reference=reference).exists():
            raise CommandError(f"No notification {reference}.")
        verifier = Verifier(reference)
        broken = 0
        for link in verifier.broken_links():
            broken += 1
            if link.event_id is None:
                self.stdout.write(f"{link.reference}: no events (expected {link.expected})")
            else:
                stored = link.stored or "(none)"
                self.stdout.write(f"{link.reference} event {link.event_id}: expected {link.expected}, stored {stored}")
        noun = "notification" if verifier.notifications == 1 else "notifications"
        self.stdout.write(
            f"checked {verifier.events} events of {verifier.notifications} {noun}: "
            f"{broken} broken link{'' if broken == 1 else 's'}"
        )
        if broken:
            raise CommandError(f"The timeline has {broken} broken link{'' if broken == 1 else 's'}.", returncode=1)
