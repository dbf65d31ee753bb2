"""Items carry their notification's destination and sending time (issue 13's speed): the
copy is made for the items of every notification already sent, then indexed."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_destination(apps, schema_editor):
    Item = apps.get_model("notifications", "Item")
    Notification = apps.get_model("notifications", "Notification")
    sent = Notification.objects.filter(pk=OuterRef("notification_id"), submitted_at__isnull=False)
    Item.objects.filter(notification__submitted_at__isnull=False).update(
        importing_country_id=Subquery(sent.values("importing_country_id")[:1]),
        submitted_at=Subquery(sent.values("submitted_at")[:1]),
    )
    status = Notification.objects.filter(pk=OuterRef("notification_id"))
    Item.objects.update(notification_status=Subquery(status.values("status")[:1]))


class Migration(migrations.Migration):
    # Not one transaction: the copy's UPDATE leaves the deferred foreign-key checks of
    # every item pending, and PostgreSQL refuses to build an index on a table with pending
    # trigger events ("cannot CREATE INDEX ... pending trigger events"). Each step commits.
    atomic = False

    dependencies = [
        ('authorities', '0002_closure'),
        ('notifications', '0010_notification_kinds'),
    ]

    operations = [
        migrations.AddField(
            model_name='item',
            name='importing_country',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='authorities.country'),
        ),
        migrations.AddField(
            model_name='item',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='item',
            name='notification_status',
            field=models.CharField(choices=[('draft', 'Draft'), ('awaiting_reply', 'Awaiting reply'), ('information_requested', 'Information requested'), ('no_objection', 'No objection'), ('objection', 'Objection'), ('withdrawn', 'Withdrawn')], default='draft', max_length=25),
        ),
        migrations.RunPython(copy_destination, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='item',
            index=models.Index(condition=models.Q(('submitted_at__isnull', False)), fields=['substance', 'importing_country', 'submitted_at'], include=('notification', 'notification_status', 'quantity', 'unit', 'form', 'concentration_percent'), name='item_by_destination'),
        ),
    ]
