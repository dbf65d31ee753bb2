"""pg_trgm and the GIN trigram indexes backtracking searches (incidents.backtracking):
``normalised_name %% query`` on the notifications' party names (NotificationPartyName) and
on the incidents' parties. PostgreSQL only: elsewhere rapidfuzz scans the rows in Python,
so on SQLite this migration does nothing."""

from django.db import migrations

INDEXES = [
    ("incidents_notificationpartyname", "notif_party_name_trgm"),
    ("incidents_incidentparty", "incident_party_trgm"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (normalised_name gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
