"""Backfill ``incidents_notificationpartyname`` for the sent notifications that have no
rows yet (those loaded without the services: ``seed_scale``, an import): the rows
``incidents.backtracking.index_party_names`` writes when a notification is sent or
amended, the same roles, columns and normalisation, in batches. Resumable: a notification
that already has rows is skipped, so an interrupted run continues when run again."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef

from incidents.backtracking import ROLES_OF_NOTIFICATION
from incidents.matching import normalise
from incidents.models import NotificationPartyName
from notifications.models import Notification, Status


def unindexed():
    """The sent notifications without party-name rows."""
    return Notification.objects.exclude(status=Status.DRAFT).filter(
        ~Exists(NotificationPartyName.objects.filter(notification=OuterRef("pk")))
    )


class Command(BaseCommand):
    help = (
        "Write the normalised party names (incidents_notificationpartyname) of every sent notification that "
        "has none yet, in batches; skips the notifications already indexed, so it can be run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=5000, help="notifications per batch (default 5000)")

    def handle(self, *args, **options):
        size = options["batch"]
        if size < 1:
            raise CommandError("--batch must be at least 1.")
        columns = list(ROLES_OF_NOTIFICATION.values())
        total = unindexed().count()
        self.stdout.write(f"{total:,} sent notifications without party names; batches of {size:,}")
        # The same few companies file again and again: normalise each spelling once.
        normalised: dict[str, str] = {}
        done = written = 0
        last = 0
        started = time.monotonic()
        while True:
            batch = list(unindexed().filter(pk__gt=last).order_by("pk").values_list("pk", *columns)[:size])
            if not batch:
                break
            rows = []
            for pk, *values in batch:
                for role, value in zip(ROLES_OF_NOTIFICATION, values, strict=True):
                    name = (value or "").strip()
                    if not name:
                        continue
                    if name not in normalised:
                        normalised[name] = normalise(name)
                    if normalised[name]:
                        rows.append(
                            NotificationPartyName(
                                notification_id=pk, role=role, name=name, normalised_name=normalised[name]
                            )
                        )
            with transaction.atomic():
                # A notification sent meanwhile was indexed by its filing: leave its rows.
                NotificationPartyName.objects.bulk_create(rows, batch_size=size, ignore_conflicts=True)
            last = batch[-1][0]
            done += len(batch)
            written += len(rows)
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"{done:,}/{total:,} notifications, {written:,} names, {done / elapsed if elapsed else 0:,.0f}/s"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {done:,} notifications ({written:,} names) in {time.monotonic() - started:.1f} s."
            )
        )
