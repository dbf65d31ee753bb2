"""Helpers shared by the benchmark scripts: Django against the bench database, an
isolated broker, gunicorn on a free port, percentiles, the machine's description."""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pen_bench"
# A Redis database of the benchmark's own: the sweep and the filings enqueue outbox
# messages after commit; nobody consumes them here, and they are deleted afterwards.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


def bench_env(database_url: str | None = None) -> dict:
    """The environment every benchmark process runs with: the bench database, the bench
    broker, DEBUG off (DEBUG keeps every query in memory), production-like logging."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url or env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    env["REDIS_URL"] = env.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    env["DEBUG"] = "0"
    env["LOG_LEVEL"] = "WARNING"
    # The benchmark is one client measuring throughput: the per-client rate limit
    # (api.throttles) would measure the limit instead.
    env.setdefault("API_RATE_PER_CLIENT", "1000000/minute")
    env.setdefault("DJANGO_SETTINGS_MODULE", "pen_portal.settings")
    return env


def setup_django(database_url: str | None = None) -> None:
    """Configure this process like bench_env and set Django up."""
    os.environ.update(bench_env(database_url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")
    if name in ("pen_portal", "test_pen_portal"):
        sys.exit(f"{name} is the development or test database of the team; benchmark pen_bench instead.")


def purge_broker() -> None:
    """Drop the messages the benchmark enqueued (only in the benchmark's own Redis database)."""
    import redis

    client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    for key in client.scan_iter("celery*"):
        client.delete(key)
    for key in client.scan_iter("_kombu*"):
        client.delete(key)


def percentile(values, p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation, like numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "max_ms": round(max(ms), 2),
    }


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with ``workers`` sync workers on a free port, as the portal is deployed."""

    def __init__(self, env: dict, workers: int = 2, log_path: Path | None = None):
        self.env, self.workers = env, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or RESULTS / "gunicorn.log"
        self.process = None

    def __enter__(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "pen_portal.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code < 500:
                    return self
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def worker_rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.worker_pids()]

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": os.getloadavg(),
    }


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def postgres_settings() -> dict:
    from django.db import connection

    names = ("shared_buffers", "work_mem", "effective_cache_size", "jit", "max_parallel_workers_per_gather")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [list(names)])
        return {name: f"{setting}{' x ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()}
