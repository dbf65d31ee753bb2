#!/usr/bin/env python
"""EXPERIMENT, kept for the record: what would a set-based chase sweep cost? (It showed the
way; the portal's sweep is now set-based: notifications.sweep.chase_batch.)

notifications.sweep.sweep handles one notification per transaction (8 to 9 queries, and
one broker publish per message after commit): about 4 ms per due notification here, so
10,000 take ~40 s against a target of 10 s (docs/performance.md). This script sweeps the
same 10,000 (bench/chase_sweep.py's setup) in batches of 500: one transaction per batch
that locks its candidates (FOR UPDATE SKIP LOCKED, so a second sweep skips them instead
of waiting), computes the steps in Python with notifications.clock's own ladder and
wording, writes them with one multi-row statement per table (ON CONFLICT DO NOTHING
under the same unique constraints), and after commit publishes one broker message per
batch instead of one per outbox row. It records exactly what chase_one records, so the
timing compares like with like; it is a measurement, not a proposal of finished code.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pen_bench .venv/bin/python bench/experiments/batched_sweep.py
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402


def sweep_batched(*, now, batch: int = 500) -> dict:
    from types import SimpleNamespace

    from celery import current_app
    from django.db import connection, transaction

    from authorities.models import Country
    from chasing import sweep
    from notifications import clock

    countries = Country.objects.in_bulk()
    ladder = [number for number, _name, _offset in clock.ladder()]
    processed = steps = 0
    while True:
        outbox_ids = []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, reference, reply_due, chase_step, status, importing_country_id "
                "FROM notifications_notification WHERE next_chase_at <= %s "
                "ORDER BY next_chase_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
                [now, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            claims, records, events, signals, messages = [], [], [], [], []
            for pk, reference, reply_due, chase_step, status, importing in rows:
                if status != "awaiting_reply" or reply_due is None:
                    claims.append((pk, chase_step, None))
                    continue
                upcoming = [(n, clock.step_due_at(reply_due, n)) for n in ladder if n > chase_step]
                due = [(n, at) for n, at in upcoming if at <= now]
                later = [at for _n, at in upcoming if at > now]
                latest = due[-1][0] if due else chase_step
                claims.append((pk, latest, later[0] if later else None))
                for number, at in due:
                    records.append((pk, number, at, now, number == latest))
                    events.append((pk, sweep.STEP_EVENTS[number], at))
                    if number == 2:
                        signals.append((pk, at, f"No reply by {reply_due.isoformat()}"))
                stub = SimpleNamespace(reference=reference, reply_due=reply_due, importing_country=countries[importing])
                caught_up_overdue = any(number == 2 for number, _at in due)
                for topic, side, subject, body in sweep._messages_for(stub, latest, caught_up_overdue):
                    payload = {"to": side, "subject": subject.replace("%", "%%"), "body": body, "step": latest}
                    messages.append((pk, topic, json.dumps(payload), now, f"chase:{pk}:{latest}:{side}"))
                processed += 1
                steps += len(due)
            cursor.execute(
                "UPDATE notifications_notification AS n SET chase_step = v.step, next_chase_at = v.next "
                "FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[]) AS v(id, step, next) WHERE n.id = v.id",
                [[c[0] for c in claims], [c[1] for c in claims], [c[2] for c in claims]],
            )
            if records:
                cursor.execute(
                    "INSERT INTO chasing_chaserecord (notification_id, step, due_at, recorded_at, messages_sent) "
                    "SELECT * FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[], %s::timestamptz[], "
                    "%s::boolean[]) ON CONFLICT (notification_id, step) DO NOTHING",
                    [list(column) for column in zip(*records, strict=True)],
                )
                cursor.execute(
                    "INSERT INTO notifications_event (notification_id, kind, at, detail, data) "
                    "SELECT id, kind, at, '', '{}'::jsonb FROM unnest(%s::bigint[], %s::varchar[], "
                    "%s::timestamptz[]) AS v(id, kind, at)",
                    [list(column) for column in zip(*events, strict=True)],
                )
            if signals:
                cursor.execute(
                    "INSERT INTO notifications_risksignal (notification_id, kind, raised_at, detail) "
                    "SELECT id, 'silence', at, detail FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) "
                    "AS v(id, at, detail) ON CONFLICT (notification_id, kind) DO NOTHING",
                    [list(column) for column in zip(*signals, strict=True)],
                )
            if messages:
                cursor.execute(
                    "INSERT INTO messaging_outboxmessage (notification_id, topic, payload, created_at, attempts, "
                    "dedup_key) SELECT id, topic, payload::jsonb, at, 0, key FROM unnest(%s::bigint[], "
                    "%s::varchar[], %s::text[], %s::timestamptz[], %s::varchar[]) AS v(id, topic, payload, at, key) "
                    "ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                    [list(column) for column in zip(*messages, strict=True)],
                )
                outbox_ids = [row[0] for row in cursor.fetchall()]
        if outbox_ids:
            # One message per batch (a task that dispatches a list of outbox ids).
            current_app.send_task("messaging.dispatch_outbox_messages", args=[outbox_ids])
        if len(rows) < batch:
            break
    return {"candidates": processed, "steps": steps}


def main():
    common.setup_django()
    from datetime import datetime

    from django.db import connection

    from demo import scale

    with connection.cursor() as cursor:
        state = scale.read_state(cursor)
    world = scale.build_world(state.params)
    added = scale.add_due(state.params, world, count=10000)
    try:
        before = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])
        started = time.perf_counter()
        result = sweep_batched(now=datetime.fromisoformat(state.params.now))
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            first = added["first_ids"]["notifications_notification"]
            cursor.execute("SELECT COUNT(*) FROM chasing_chaserecord WHERE notification_id >= %s", [first])
            records = cursor.fetchone()[0]
        after = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])
    finally:
        scale.remove_due(added)
        common.purge_broker()
    print(
        f"batched sweep (experiment): {result['candidates']:,} notifications, {result['steps']:,} steps in "
        f"{elapsed:.1f} s; chase records of the due notifications now {records:,}; "
        f"RSS {before / 1024:.0f} -> {after / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
