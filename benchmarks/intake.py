"""Intake under load: POST /api/v1/notifications from 16 concurrent clients against
`meldplicht serve` and against the bare baseline app, then a bulk CSV upload.

Each server is one process started here on a free port with a fresh database; meldplicht's
employer and API key are made with the CLI. Every request carries a distinct, valid notice.

    .venv/bin/python benchmarks/intake.py --db sqlite --requests 2000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
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


def bench_meldplicht(
    backend: Backend, requests: int, bulk_rows: int
) -> tuple[LoadResult, dict[str, Any]]:
    """Intake load, then one bulk upload of `bulk_rows` rows, on one meldplicht server."""
    db = fresh_database(backend, "intake")
    day = today()
    try:
        token = _employer_key(db)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        warm = _bodies(WARMUP, 4_000_000, day)
        bodies = _bodies(requests, 4_000_100, day)
        port = free_port()
        args = [MELDPLICHT, "serve", "--port", str(port)]
        with serve(args, env_for(db), port, f"serve-{backend}") as server:
            run_load(server.base_url, headers, warm)
            seconds, lat, errors = run_load(server.base_url, headers, bodies)
            load = _result("meldplicht", backend, seconds, lat, errors, 0.0)
            bulk = _bulk(server.base_url, token, bulk_rows, day)
            rss = peak_rss_mb(server.process.pid)
        return (
            LoadResult(**{**asdict(load), "server_peak_rss_mb": round(rss, 1)}),
            {**bulk, "backend": backend},
        )
    finally:
        drop_database(db)


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


def bench_baseline(backend: Backend, requests: int) -> LoadResult:
    db = fresh_database(backend, "baseline")
    day = today()
    try:
        warm = _bodies(WARMUP, 4_000_000, day)
        bodies = _bodies(requests, 4_000_100, day)
        port = free_port()
        env = {**env_for(db), "BENCH_DATABASE_URL": db.url}
        args = [
            PYTHON, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
        ]  # fmt: skip
        headers = {"Content-Type": "application/json"}
        with serve(args, env, port, f"baseline-{backend}") as server:
            run_load(server.base_url, headers, warm)
            seconds, lat, errors = run_load(server.base_url, headers, bodies)
            rss = peak_rss_mb(server.process.pid)
        return _result("baseline", backend, seconds, lat, errors, rss)
    finally:
        drop_database(db)


def bench_intake(backends: list[Backend], requests: int, bulk_rows: int) -> dict[str, Any]:
    """Both targets on each backend, baseline first; plus the bulk upload."""
    loads: list[LoadResult] = []
    bulks: list[dict[str, Any]] = []
    for backend in backends:
        loads.append(bench_baseline(backend, requests))
        load, bulk = bench_meldplicht(backend, requests, bulk_rows)
        loads.append(load)
        bulks.append(bulk)
    return {"loads": [asdict(x) for x in loads], "bulk": bulks}


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
