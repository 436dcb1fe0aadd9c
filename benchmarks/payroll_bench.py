"""Payroll import at scale: `meldplicht import-payroll FILE` at two sizes, for time and for
flat memory (the larger file must not need more memory than the smaller one).

    .venv/bin/python benchmarks/payroll_bench.py --url sqlite:///... --rows 100000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common import MELDPLICHT, WORK, Backend, Database, env_for, run_measured
from generate import payroll_csv


def import_file(
    db: Database, rows: int, first: int, *, seed: int, world_size: int
) -> dict[str, Any]:
    path = payroll_csv(
        WORK / f"payroll_{rows}.csv", rows, seed=seed, notifications=world_size, first=first
    )
    child = run_measured([MELDPLICHT, "import-payroll", str(path)], env_for(db))
    summary: dict[str, Any] = {}
    if child.stdout.strip().startswith("{"):
        summary = json.loads(child.stdout)
    imported = int(summary.get("imported", 0))
    result: dict[str, Any] = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "returncode": child.returncode,
        "imported": imported,
        "updated": int(summary.get("updated", 0)),
        "already_present": int(summary.get("already_present", 0)),
        "rejected": int(summary.get("rejected", 0)),
        "seconds": round(child.seconds, 2),
        "rows_per_second": round(rows / child.seconds, 1) if child.seconds else 0.0,
        "peak_rss_mb": round(child.peak_rss_mb, 1),
    }
    if child.returncode != 0:
        result["stderr_tail"] = child.stderr[-500:]
    path.unlink(missing_ok=True)
    return result


def bench_payroll(db: Database, rows: int, *, seed: int, world_size: int) -> dict[str, Any]:
    """A tenth of `rows`, then `rows` more (new records): compare time and peak memory."""
    small = max(1000, rows // 10)
    first = import_file(db, small, 0, seed=seed, world_size=world_size)
    second = import_file(db, rows, small, seed=seed, world_size=world_size)
    return {"backend": db.backend, "small": first, "large": second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="A database made by generate.py.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--world", type=int, default=100_000, help="Its notification count.")
    args = parser.parse_args()
    backend: Backend = "sqlite" if args.url.startswith("sqlite") else "postgres"
    path = Path(args.url.split("///", 1)[1]) if backend == "sqlite" else None
    db = Database(backend, "payroll", args.url, path)
    print(json.dumps(bench_payroll(db, args.rows, seed=2026, world_size=args.world), indent=2))


if __name__ == "__main__":
    main()
