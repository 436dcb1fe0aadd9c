"""Shared plumbing of the benchmarks: fresh databases, subprocesses, servers and statistics."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"  # databases, CSV files, server logs (git-ignored)
PYTHON = sys.executable
MELDPLICHT = str(Path(PYTHON).with_name("meldplicht"))
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# One fixed secret, so the generator's keyed hashes and ciphertexts match the server's.
SECRET_KEY = "benchmark-secret-not-for-production-0123456789"  # noqa: S105 - scratch DBs only

Backend = Literal["sqlite", "postgres"]


@dataclass(frozen=True, slots=True)
class Database:
    backend: Backend
    name: str
    url: str  # SQLAlchemy URL
    path: Path | None = None  # SQLite file

    @property
    def driver_dsn(self) -> str:
        """What psycopg.connect or sqlite3.connect takes."""
        if self.path is not None:
            return str(self.path)
        return self.url.replace("postgresql+psycopg://", "postgresql://")


def pg_base() -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0]


def fresh_database(backend: Backend, name: str) -> Database:
    """An empty database (dropped first if it exists), not yet migrated."""
    WORK.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = WORK / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Database("sqlite", name, f"sqlite:///{path}", path)
    dbname = f"bench_{name}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = f"{pg_base()}/{dbname}".replace("postgresql://", "postgresql+psycopg://")
    return Database("postgres", name, url)


def existing_database(backend: Backend, name: str) -> Database:
    """The database an earlier `fresh_database(backend, name)` made (it must still exist)."""
    if backend == "sqlite":
        path = WORK / f"{name}.db"
        if not path.exists():
            raise SystemExit(f"{path} does not exist: run once without --reuse")
        return Database("sqlite", name, f"sqlite:///{path}", path)
    url = f"{pg_base()}/bench_{name}".replace("postgresql://", "postgresql+psycopg://")
    return Database("postgres", name, url)


def drop_database(db: Database) -> None:
    if db.path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db.path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "bench_{db.name}" WITH (FORCE)')


def database_bytes(db: Database) -> int:
    if db.path is not None:
        return sum(
            Path(f"{db.path}{s}").stat().st_size
            for s in ("", "-wal")
            if Path(f"{db.path}{s}").exists()
        )
    with psycopg.connect(db.driver_dsn) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def env_for(db: Database) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDPLICHT_")}
    env.update(
        MELDPLICHT_DATABASE_URL=db.url,
        MELDPLICHT_SECRET_KEY=SECRET_KEY,
        MELDPLICHT_ENVIRONMENT="development",
        # A load test is a burst from one key by design: lift the per-key intake limit.
        MELDPLICHT_RATE_LIMIT_INTAKE_PER_KEY="1000000000",
        PYTHONUNBUFFERED="1",
    )
    return env


# --- measuring a child process -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildRun:
    returncode: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(args: Sequence[str], env: dict[str, str], *, timeout: float = 7200) -> ChildRun:
    """Run a command, with its wall time and peak resident memory.

    The peak is the child's VmHWM, read from /proc every 20 ms while it runs: the rusage
    that wait4 or RUSAGE_CHILDREN report also counts the parent's image the child was forked
    from (Linux carries the pre-exec high-water mark over), which would make every child of a
    large harness look as large as the harness.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    # Per harness process, so that two benchmarks running at once keep their outputs apart.
    out_path = WORK / f"child.{os.getpid()}.stdout"
    err_path = WORK / f"child.{os.getpid()}.stderr"
    peak = 0.0
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(args), env=env, stdout=out, stderr=err, cwd=WORK)
        while True:
            peak = max(peak, _status_mb(proc.pid, "VmHWM"))
            try:
                proc.wait(timeout=0.02)
                break
            except subprocess.TimeoutExpired:
                if time.perf_counter() - started > timeout:
                    proc.kill()
                    proc.wait()
                    break
        seconds = time.perf_counter() - started
    return ChildRun(
        returncode=proc.returncode,
        seconds=seconds,
        peak_rss_mb=peak,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def _status_mb(pid: int, field: str) -> float:
    """A memory line of /proc/PID/status in MB (0 when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def rss_mb(pid: int) -> float:
    """Current resident memory of a running process (Linux /proc)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory so far of a running process (Linux /proc)."""
    return _status_mb(pid, "VmHWM")


def meldplicht_cli(db: Database, *args: str) -> str:
    """Run `meldplicht ARGS` against the database; return its stdout (fail loudly)."""
    result = subprocess.run(
        [MELDPLICHT, *args], env=env_for(db), cwd=WORK, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"meldplicht {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(slots=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


@contextlib.contextmanager
def serve(args: Sequence[str], env: dict[str, str], port: int, name: str) -> Iterator[Server]:
    """Start a server subprocess on 127.0.0.1:port, wait until it answers, stop it after."""
    WORK.mkdir(parents=True, exist_ok=True)
    log_path = WORK / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(list(args), env=env, cwd=WORK, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(proc, base, log_path)
            yield Server(proc, base, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()[-3000:]}")
        try:
            httpx.get(base + "/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start:\n{log_path.read_text()[-3000:]}")


# --- statistics and the machine ------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            mem = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB"
    load = "unknown"
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": cpu,
        "os": platform.platform(),
        "load average (1/5/15 min) at start": load,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    try:
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            out["postgresql"] = str(row[0]) if row else "unknown"
    except psycopg.Error:
        out["postgresql"] = "not reachable"
    for package in (
        "meldplicht",
        "fastapi",
        "starlette",
        "uvicorn",
        "pydantic",
        "sqlalchemy",
        "sqlmodel",
        "psycopg",
        "cryptography",
        "httpx",
    ):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out
