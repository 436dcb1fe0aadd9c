"""The inspection queue at scale: top 50 by risk with two filters, one flag's detail, and the
CSV export in flat memory, over HTTP against `meldplicht serve` on a generated database.

    .venv/bin/python benchmarks/queue_bench.py --url sqlite:///benchmarks/.work/sweep_1000000.db
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from datetime import timedelta
from typing import Any

import httpx

from common import (
    MELDPLICHT,
    Backend,
    Database,
    env_for,
    free_port,
    meldplicht_cli,
    percentile,
    rss_mb,
    serve,
)
from generate import AS_OF

# Two filters each, as an inspector would combine them; rotated over the requests.
FILTERS: tuple[dict[str, str], ...] = (
    {"severity": "high", "province": "Zuid-Holland"},
    {"rule": "LATE_NOTICE", "sector": "Teelt / horticulture and crops"},
    {"province": "Noord-Brabant", "assignee": "none"},
    {"severity": "medium", "rule": "BELOW_MINIMUM_WAGE"},
)
ALL_STATUSES = ("open", "claimed", "investigating", "resolved", "cleared")


def _staff_key(db: Database) -> str:
    password = "benchmark-password-0123"  # noqa: S105 - a throwaway account in a scratch DB
    with contextlib.suppress(RuntimeError):  # made by an earlier run on this database
        meldplicht_cli(
            db, "users", "create", "--username", "bench_supervisor", "--role", "supervisor",
            "--password", password,
        )  # fmt: skip
    return meldplicht_cli(
        db, "keys", "create", "--role", "supervisor", "--username", "bench_supervisor"
    ).strip()


def _timed_get(http: httpx.Client, path: str, params: Any = None) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.get(path, params=params)
    return (time.perf_counter() - started) * 1000, response


def _stats(ms: list[float], errors: int) -> dict[str, Any]:
    return {
        "requests": len(ms) + errors,
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms, default=0.0), 1),
        "errors": errors,
    }


Params = list[tuple[str, str | int | float | bool | None]]


def _export(http: httpx.Client, pid: int, params: Params) -> dict[str, Any]:
    """Stream the CSV, counting lines, while a thread samples the server's RSS."""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mb(pid))
            time.sleep(0.05)

    before = rss_mb(pid)
    sampler = threading.Thread(target=sample)
    sampler.start()
    lines = 0
    size = 0
    started = time.perf_counter()
    try:
        with http.stream("GET", "/api/v1/inspection/flags.csv", params=params) as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    peak = max([before, *samples])
    return {
        "status": status,
        "rows": max(0, lines - 1),
        "mb": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "rows_per_second": round(max(0, lines - 1) / seconds, 1) if seconds else 0.0,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - before, 1),
    }


def bench_queue(db: Database, *, requests: int, export_days: tuple[int, int]) -> dict[str, Any]:
    """List and detail latencies, then a small and a large export (to show memory is flat)."""
    token = _staff_key(db)
    port = free_port()
    out: dict[str, Any] = {"backend": db.backend}
    with (
        serve([MELDPLICHT, "serve", "--port", str(port)], env_for(db), port, "serve-queue") as srv,
        httpx.Client(
            base_url=srv.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as http,
    ):
        flag_ids: list[str] = []
        list_ms: list[float] = []
        list_errors = 0
        matched: dict[str, int] = {}
        # The same timings per filter combination, so a tail can be traced to its filters.
        per_filter: dict[str, list[float]] = {json.dumps(f): [] for f in FILTERS}
        slowest: list[tuple[float, int, str]] = []  # (ms, request number, filters)
        for i in range(requests + len(FILTERS)):  # the first round warms up
            flt = FILTERS[i % len(FILTERS)]
            ms, response = _timed_get(http, "/api/v1/inspection/flags", {**flt, "limit": "50"})
            if response.status_code != 200:
                list_errors += 1
                continue
            items = response.json()["items"]
            matched[json.dumps(flt)] = len(items)
            if i >= len(FILTERS):
                list_ms.append(ms)
                per_filter[json.dumps(flt)].append(ms)
                slowest = sorted([*slowest, (ms, i, json.dumps(flt))], reverse=True)[:5]
            flag_ids.extend(item["id"] for item in items[:5])
        out["list"] = {
            **_stats(list_ms, list_errors),
            "items_per_filter": matched,
            "per_filter": {k: _stats(v, 0) for k, v in per_filter.items()},
            "slowest": [{"ms": round(ms, 1), "request": i, "filters": f} for ms, i, f in slowest],
        }
        detail_ms: list[float] = []
        detail_errors = 0
        ids = list(dict.fromkeys(flag_ids)) or []
        for i in range(min(requests, len(ids) * 4) if ids else 0):
            ms, response = _timed_get(http, f"/api/v1/inspection/flags/{ids[i % len(ids)]}")
            if response.status_code != 200:
                detail_errors += 1
            elif i >= len(FILTERS):
                detail_ms.append(ms)
        out["detail"] = _stats(detail_ms, detail_errors)
        exports = []
        for days in export_days:
            params: Params = [("status", s) for s in ALL_STATUSES]
            params.append(("first_seen_from", (AS_OF - timedelta(days=days - 1)).isoformat()))
            exports.append({"days": days, **_export(http, srv.process.pid, params)})
        out["export"] = exports
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="A database made by generate.py.")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    backend: Backend = "sqlite" if args.url.startswith("sqlite") else "postgres"
    path = None
    if backend == "sqlite":
        from pathlib import Path

        path = Path(args.url.split("///", 1)[1])
    db = Database(backend, "queue", args.url, path)
    print(json.dumps(bench_queue(db, requests=args.requests, export_days=(7, 72)), indent=2))


if __name__ == "__main__":
    main()
