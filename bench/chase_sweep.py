#!/usr/bin/env python
"""The chase sweep's time and peak memory: 10,000 due notifications among N (issue 5; the
sweep row of issue 7). Not a test: run it by hand against a database seeded by seed_scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pen_bench_100k \\
        .venv/bin/python bench/chase_sweep.py [--due 10000] [--json]

It adds ``--due`` notifications whose next chase step fell due at the last midnight before
the seed's ``now`` (demo.scale.add_due: half reminders, then overdue, escalation and
persistent silence, their earlier steps already recorded), runs ``sweep.sweep(now=...)``
once in a fresh process (time, and its peak RSS, VmHWM; the process starts with only
Django loaded, so the growth is the sweep's), then deletes what it added and what the sweep
wrote about it. Run it on databases of two sizes to see that memory does not grow with N.
Outbox messages are enqueued on an isolated Redis database (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/13) and purged afterwards."""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def peak_rss_kb() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries it
    over exec from the forked parent, so a child started by a big parent reports the
    parent's size. VmHWM belongs to the process's own address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(at: str) -> None:
    """The sweep itself, in a process of its own."""
    common.setup_django()
    from datetime import datetime

    from chasing import sweep

    baseline_kb = peak_rss_kb()
    started = time.perf_counter()
    result = sweep.sweep(now=datetime.fromisoformat(at))
    elapsed = time.perf_counter() - started
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "seconds": round(elapsed, 2),
                "candidates": result["candidates"],
                "steps": result["steps"],
                "rss_before_mb": round(baseline_kb / 1024, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )


def measure(due: int) -> dict:
    from django.db import connection

    from demo import scale

    with connection.cursor() as cursor:
        state = scale.read_state(cursor)
    if state is None:
        sys.exit("This database was not seeded by seed_scale (manage.py seed_scale --notifications N).")
    world = scale.build_world(state.params)
    added = scale.add_due(state.params, world, count=due)
    try:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_notification")
            cursor.execute("SELECT COUNT(*) FROM notifications_notification")
            among = cursor.fetchone()[0]
            cursor.execute(
                "SELECT COUNT(*) FROM notifications_notification WHERE next_chase_at <= %s", [state.params.now]
            )
            due_now = cursor.fetchone()[0]
        connection.close()
        run = subprocess.run(
            [common.PYTHON, __file__, "--child", state.params.now],
            env=common.bench_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise RuntimeError(f"the sweep failed:\n{run.stderr[-3000:]}")
        result = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        scale.remove_due(added)
        common.purge_broker()
    return {"among": among, "due": due_now, "as_of": state.params.now, **result}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=10000, help="due notifications to add (default 10000)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--child", metavar="AT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    common.setup_django()
    result = measure(args.due)
    if args.json:
        print(json.dumps(result))
        return None
    print(
        f"chase sweep: {result['due']:,} due among {result['among']:,} notifications: "
        f"{result['seconds']:.1f} s ({result['steps']:,} steps recorded), "
        f"peak RSS {result['peak_rss_mb']:.0f} MB (Django loaded: {result['rss_before_mb']:.0f} MB)"
    )
    return None


if __name__ == "__main__":
    main()
