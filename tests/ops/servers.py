"""Real server processes for the ops tests: fresh databases, employers and keys via the CLI,
`python -m meldplicht serve` on a free port, and distinct valid BSNs."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from meldplicht.core.migrations import upgrade
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend, unique_pg_name

PYTHON = sys.executable
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def valid_bsns(start: int = 200_000_000) -> Iterator[str]:
    """Nine-digit numbers that pass the 11-test (weights 9..2 and -1), in increasing order."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    for n in itertools.count(start):
        digits = f"{n:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            yield digits


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDPLICHT_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        MELDPLICHT_DATABASE_URL=database_url,
        MELDPLICHT_ENVIRONMENT="test",
        MELDPLICHT_SECRET_KEY="ops-tests-secret-0123456789abcdef",
        # These tests load the server on purpose; the rate limits have tests of their own.
        MELDPLICHT_RATE_LIMIT_INTAKE_PER_KEY="1000000000",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database of `backend`, dropped afterwards."""
    require_backend(backend)
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ops.db'}"
        upgrade(url)
        yield url
        return
    name = unique_pg_name("meldplicht_ops")
    url = fresh_postgres_url(name)
    upgrade(url)
    try:
        yield url
    finally:
        drop_postgres(name)


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "meldplicht", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"meldplicht {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def employer_token(env: dict[str, str], cwd: Path, kvk: str = "12345678") -> str:
    """An employer and an employer key, made by the CLI as an operator would."""
    cli(env, cwd, "employers", "create", "--kvk", kvk, "--name", "Kwekerij Ops B.V.")
    return cli(env, cwd, "keys", "create", "--employer-kvk", kvk).strip().splitlines()[-1]


@dataclass
class Server:
    """One `python -m meldplicht serve` process; its output goes to `log_path`."""

    env: dict[str, str]
    cwd: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.cwd / f"server-{self.port}.log"

    def start(self, timeout: float = 30) -> Server:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "meldplicht", "serve", "--port", str(self.port)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@contextmanager
def running_server(env: dict[str, str], cwd: Path, workers: int = 1) -> Iterator[Server]:
    server = Server(env=env, cwd=cwd, workers=workers)
    try:
        yield server.start()
    finally:
        server.stop()


def auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def count_rows(database_url: str, sql: str, **params: Any) -> int:
    from sqlalchemy import text

    from meldplicht.core.db import create_db_engine

    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


@dataclass
class PrivatePostgres:
    """A PostgreSQL 15 instance of our own in a temporary directory (run as user postgres)."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str | Path) -> None:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"

    def init(self) -> PrivatePostgres:
        self._run(PG_BIN / "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        return self

    def start(self) -> None:
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
            "-l",
            str(self.root / "postgres.log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not PG_BIN.joinpath("initdb").exists():
        import pytest

        pytest.skip("PostgreSQL 15 binaries not installed")
    root = Path(tempfile.mkdtemp(prefix="meldplicht-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pg = PrivatePostgres(root).init()
    pg.start()
    try:
        yield pg
    finally:
        if pg.running():
            with suppress(AssertionError):
                pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
