"""Indexes for the risk flags and the estimates (issue 13), PostgreSQL and SQLite alike
(plain B-trees; INCLUDE and partial conditions are PostgreSQL only, so those run there).

- ``notif_importing_sent``: a country's sent notifications by ``submitted_at`` (the year
  of an estimate, the three years of unusual_quantity and new_importer), with ``status``
  and ``id`` so that the window is read from the index alone.
- (The items of a country and substance over a period have their own index,
  ``item_by_destination``, on the item's copy of its notification's destination and
  sending time: notifications migration 0011.)
- ``notif_party_name_exact``: a normalised party name exactly, with its role and
  notification (new_importer's first question: the same name already named there).

On the notifications' and incidents' tables, but here: they exist for this app's queries,
and the notifications app's migrations are numbered by its own changes."""

from django.db import migrations

POSTGRESQL = [
    (
        "CREATE INDEX IF NOT EXISTS notif_importing_sent ON notifications_notification "
        "(importing_country_id, submitted_at) INCLUDE (status, id) WHERE submitted_at IS NOT NULL",
        "DROP INDEX IF EXISTS notif_importing_sent",
    ),
    (
        "CREATE INDEX IF NOT EXISTS notif_party_name_exact ON incidents_notificationpartyname "
        "(normalised_name, role, notification_id)",
        "DROP INDEX IF EXISTS notif_party_name_exact",
    ),
]
OTHERS = [
    (
        "CREATE INDEX IF NOT EXISTS notif_importing_sent ON notifications_notification "
        "(importing_country_id, submitted_at)",
        "DROP INDEX IF EXISTS notif_importing_sent",
    ),
    (
        "CREATE INDEX IF NOT EXISTS notif_party_name_exact ON incidents_notificationpartyname "
        "(normalised_name, role, notification_id)",
        "DROP INDEX IF EXISTS notif_party_name_exact",
    ),
]


def _run(statements):
    def run(apps, schema_editor):
        for statement in statements(schema_editor.connection.vendor):
            schema_editor.execute(statement)

    return run


forwards = _run(lambda vendor: [create for create, _drop in (POSTGRESQL if vendor == "postgresql" else OTHERS)])
backwards = _run(lambda vendor: [drop for _create, drop in (POSTGRESQL if vendor == "postgresql" else OTHERS)])


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("notifications", "0010_notification_kinds"),
        ("incidents", "0002_trigram_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
