"""Intake under load: POST /api/v1/notifications from 16 concurrent clients against
`meldplicht serve` and against the bare baseline app, then a bulk CSV upload.

Each server is one process started here on a free port with a fresh database; meldplicht's
employer and API key are made with the CLI. Every request carries a distinct, valid notice.
The two servers run side by side and the load alternates between them in rounds (ROUNDS).

    .venv/bin/python benchmarks/intake.py --db sqlite --requests 2000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import httpx

from common import (
    BENCH,
    MELDPLICHT,
    PYTHON,
    WORK,
    Backend,
    Database,
    drop_database,
    env_for,
    free_port,
    fresh_database,
    meldplicht_cli,
    peak_rss_mb,
    percentile,
    serve,
)
from generate import bulk_csv, upload_bodies
from meldplicht.core.clock import today

CLIENTS = 16
WARMUP = 32
# The load alternates between the baseline and meldplicht in this many rounds (each a
# ROUNDS-th of the requests, the server taking the first turn alternating too): on a shared
# machine whose speed drifts, both then meet it in the same state and the ratio holds.
ROUNDS = 6
EMPLOYER_KVK = "87654321"
SEED = 2026


@dataclass(frozen=True, slots=True)
class LoadResult:
    target: str
    backend: str
    requests: int
    clients: int
    seconds: float
    throughput: float  # successful requests per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_sample: str
    server_peak_rss_mb: float


def _bodies(count: int, first_person: int, day: date) -> list[bytes]:
    return [
        json.dumps(b).encode()
        for b in upload_bodies(count, seed=SEED, first_person=first_person, today=day)
    ]


def run_load(
    base_url: str, headers: dict[str, str], bodies: list[bytes]
) -> tuple[float, list[float], list[str]]:
    """POST every body, CLIENTS at a time; return wall seconds, latencies (s), errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def client() -> None:
        mine: list[float] = []
        bad: list[str] = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    break
                started = time.perf_counter()
                try:
                    response = http.post("/api/v1/notifications", content=bodies[index])
                    elapsed = time.perf_counter() - started
                    if response.status_code == 201:
                        mine.append(elapsed)
                    else:
                        bad.append(f"{response.status_code}: {response.text[:300]}")
                except httpx.HTTPError as exc:
                    bad.append(f"{type(exc).__name__}: {exc}")
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors


def _result(
    target: str, backend: str, seconds: float, lat: list[float], errors: list[str], rss: float
) -> LoadResult:
    ms = [x * 1000 for x in lat]
    return LoadResult(
        target=target,
        backend=backend,
        requests=len(lat) + len(errors),
        clients=CLIENTS,
        seconds=round(seconds, 2),
        throughput=round(len(lat) / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(ms, 50), 1),
        p95_ms=round(percentile(ms, 95), 1),
        p99_ms=round(percentile(ms, 99), 1),
        max_ms=round(max(ms, default=0.0), 1),
        errors=len(errors),
        error_sample=errors[0][:300] if errors else "",
        server_peak_rss_mb=round(rss, 1),
    )


def _employer_key(db: Database) -> str:
    meldplicht_cli(db, "db", "upgrade")
    meldplicht_cli(
        db,
        "employers",
        "create",
        "--kvk",
        EMPLOYER_KVK,
        "--name",
        "Benchmark Tuinbouw B.V.",
        "--sbi-code",
        "0113",
        "--loonheffingennummer",
        "123456782L01",
    )
    return meldplicht_cli(db, "keys", "create", "--employer-kvk", EMPLOYER_KVK).strip()


def _bulk(base_url: str, token: str, rows: int, day: date) -> dict[str, Any]:
    path = bulk_csv(WORK / "bulk.csv", rows, seed=SEED, first_person=4_500_000, today=day)
    data = path.read_bytes()
    started = time.perf_counter()
    response = httpx.post(
        base_url + "/api/v1/notifications/bulk",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    report = response.json() if response.status_code == 200 else {}
    accepted = int(report.get("accepted", 0))
    first_error = next(
        (r["errors"] for r in report.get("rows", []) if r.get("status") == "rejected"), None
    )
    return {
        "rows": rows,
        "status": response.status_code,
        "accepted": accepted,
        "rejected": int(report.get("rejected", 0)),
        "first_rejection": json.dumps(first_error)[:300] if first_error else "",
        "bytes": len(data),
        "seconds": round(seconds, 2),
        "rows_per_second": round(accepted / seconds, 1) if seconds else 0.0,
    }


def _baseline_args(port: int) -> list[str]:
    return [
        PYTHON, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
    ]  # fmt: skip


def bench_backend(
    backend: Backend, requests: int, bulk_rows: int
) -> tuple[LoadResult, LoadResult, dict[str, Any]]:
    """The baseline and meldplicht, each a server of its own with a fresh database, under the
    same load in alternating rounds (so both meet the machine in the same state); then one
    bulk upload of `bulk_rows` rows to meldplicht."""
    day = today()
    base_db = fresh_database(backend, "baseline")
    ours_db = fresh_database(backend, "intake")
    try:
        token = _employer_key(ours_db)
        headers = {
            "baseline": {"Content-Type": "application/json"},
            "meldplicht": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        }
        warm = _bodies(WARMUP, 4_000_000, day)
        bodies = _bodies(requests, 4_000_100, day)
        base_port, ours_port = free_port(), free_port()
        with ExitStack() as stack:
            servers = {
                "baseline": stack.enter_context(
                    serve(
                        _baseline_args(base_port),
                        {**env_for(base_db), "BENCH_DATABASE_URL": base_db.url},
                        base_port,
                        f"baseline-{backend}",
                    )
                ),
                "meldplicht": stack.enter_context(
                    serve(
                        [MELDPLICHT, "serve", "--port", str(ours_port)],
                        env_for(ours_db),
                        ours_port,
                        f"serve-{backend}",
                    )
                ),
            }
            for name, server in servers.items():
                run_load(server.base_url, headers[name], warm)
            seconds = dict.fromkeys(servers, 0.0)
            latencies: dict[str, list[float]] = {name: [] for name in servers}
            errors: dict[str, list[str]] = {name: [] for name in servers}
            for r in range(ROUNDS):
                order = list(servers) if r % 2 == 0 else list(reversed(servers))
                for name in order:
                    took, lat, bad = run_load(
                        servers[name].base_url, headers[name], bodies[r::ROUNDS]
                    )
                    seconds[name] += took
                    latencies[name] += lat
                    errors[name] += bad
            bulk = _bulk(servers["meldplicht"].base_url, token, bulk_rows, day)
            base, ours = (
                _result(
                    name,
                    backend,
                    seconds[name],
                    latencies[name],
                    errors[name],
                    peak_rss_mb(servers[name].process.pid),
                )
                for name in ("baseline", "meldplicht")
            )
        return base, ours, {**bulk, "backend": backend}
    finally:
        drop_database(base_db)
        drop_database(ours_db)


def bench_intake(backends: list[Backend], requests: int, bulk_rows: int) -> dict[str, Any]:
    """Both targets on each backend, in alternating rounds; plus the bulk upload."""
    loads: list[LoadResult] = []
    bulks: list[dict[str, Any]] = []
    for backend in backends:
        base, ours, bulk = bench_backend(backend, requests, bulk_rows)
        loads += [base, ours]
        bulks.append(bulk)
    return {"loads": [asdict(x) for x in loads], "bulk": bulks, "rounds": ROUNDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--bulk-rows", type=int, default=1000)
    args = parser.parse_args()
    backends: list[Backend] = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(json.dumps(bench_intake(backends, args.requests, args.bulk_rows), indent=2))


if __name__ == "__main__":
    main()
