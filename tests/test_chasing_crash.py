"""Chasing under crashes, with real `celery worker` and `celery beat` processes on Redis
and PostgreSQL: a worker SIGKILLed in the middle of the sweep and restarted, and two beat
schedulers at once. Afterwards every step happened exactly once per notification and
every message owed was sent exactly once."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pgtrigger
import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from chasing.models import ChaseRecord
from messaging.models import OutboxMessage
from notifications import timeline
from notifications.clock import first_chase_at
from notifications.models import Event, EventKind, Notification, RiskSignal, Status
from tests.factories import file

ROOT = Path(__file__).resolve().parent.parent
N = 2000

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def overdue_copies(template: Notification, count: int, reply_due):
    """Clone a filed notification ``count`` times as fast rows (this is data set-up, not
    the behaviour under test; the filing path is tested elsewhere)."""
    rows = []
    for i in range(count):
        clone = Notification(
            **{
                f.attname: getattr(template, f.attname)
                for f in Notification._meta.concrete_fields
                if f.attname not in ("id", "reference")
            }
        )
        clone.reference = f"DE-2025-{i + 1:06d}"
        clone.reply_due = reply_due
        clone.next_chase_at = first_chase_at(reply_due)
        clone.chase_step = 0
        clone.status = Status.AWAITING_REPLY
        rows.append(clone)
    Notification.objects.bulk_create(rows, batch_size=1000)


def start(args, env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pen_portal", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so SIGKILL reaches the pool too
    )


def kill_group(process, sig):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_worker_and_two_beats_still_chase_each_step_exactly_once(cast, tmp_path):
    now = timezone.now()
    template = file(cast, now=now)
    # Due two days ago: the reminder and overdue steps are both due, the overdue one is
    # the latest, so each notification owes two messages (importing and exporting).
    with pgtrigger.ignore(timeline.NO_DELETE):  # only the copies are chased (the timeline refuses deletes)
        Notification.objects.filter(pk=template.pk).delete()
    overdue_copies(template, N, reply_due=(now - timedelta(days=2)).date())

    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CHASE_SWEEP_SECONDS": "1",
        # Small batches, so the kill lands between two of the sweep's commits.
        "CHASE_BATCH": "50",
        "CELERY_VISIBILITY_TIMEOUT": "5",
        # The relay is the recovery path for messages a dead worker held: run it often.
        "OUTBOX_RELAY_SECONDS": "5",
        "OUTBOX_RELAY_AFTER_SECONDS": "10",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "pen_portal", "purge", "-f"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (tmp_path / "celery.log").open("w")
    worker_args = ["worker", "--pool=prefork", "--concurrency=2", "--loglevel=INFO", "--without-heartbeat"]
    processes = [
        start([*worker_args, "-n", "a@%h"], env, log),
        start(["beat", "--schedule", str(tmp_path / "beat1"), "--loglevel=INFO"], env, log),
        start(["beat", "--schedule", str(tmp_path / "beat2"), "--loglevel=INFO"], env, log),
    ]
    try:
        # Kill the only worker while the sweep is half way through.
        assert wait_for(lambda: ChaseRecord.objects.count() >= 200, timeout=90), "the sweep never started"
        kill_group(processes[0], signal.SIGKILL)
        processes[0].wait(timeout=10)
        killed_at = ChaseRecord.objects.count()
        assert killed_at < 2 * N, "the sweep finished before the worker was killed; the test proves nothing"
        processes += [start([*worker_args, "-n", "b@%h"], env, log), start([*worker_args, "-n", "c@%h"], env, log)]

        def done():
            return (
                ChaseRecord.objects.count() == 2 * N
                and OutboxMessage.objects.filter(dedup_key__isnull=False).count() == 2 * N
                and not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
            )

        assert wait_for(done, timeout=240), (
            f"records={ChaseRecord.objects.count()} "
            f"outbox={OutboxMessage.objects.filter(dedup_key__isnull=False).count()} "
            f"unsent={OutboxMessage.objects.filter(dispatched_at__isnull=True).count()}"
        )
        time.sleep(3)  # more sweeps from both beats run meanwhile; they must change nothing
    finally:
        for process in processes:
            kill_group(process, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(process, signal.SIGKILL)
        log.close()

    assert ChaseRecord.objects.count() == 2 * N
    per_step = dict(ChaseRecord.objects.values_list("step").annotate(c=Count("id")).values_list("step", "c"))
    assert per_step == {1: N, 2: N}
    events = dict(
        Event.objects.filter(kind__in=[EventKind.REMINDER, EventKind.OVERDUE])
        .values_list("kind")
        .annotate(c=Count("id"))
        .values_list("kind", "c")
    )
    assert events == {EventKind.REMINDER: N, EventKind.OVERDUE: N}
    assert RiskSignal.objects.count() == N
    owed = OutboxMessage.objects.filter(dedup_key__isnull=False)
    assert owed.count() == 2 * N
    assert owed.values("notification", "payload__to").distinct().count() == 2 * N
    assert not owed.filter(dispatched_at__isnull=True).exists()
    assert Notification.objects.filter(chase_step=2).count() == N
    log_text = (tmp_path / "celery.log").read_text()
    assert "chase_sweep" in log_text
