"""The whole sweep, old code against new, side by side on copies of one generated database.

One database is generated, copied once per code version (SQLite: the file; PostgreSQL:
CREATE DATABASE ... TEMPLATE), and each copy gets, with its version's `src` first on the path
(`meldplicht sweep` as a child process, wall time and peak RSS from /proc):

1. `--full` as of the generator's day (the first night: flags the generator wrote are judged);
2. `--full` as of the next day (every notification judged again, little changed: what a
   night of set-based writes saves);
3. the default incremental run as of the day after (an ordinary day with no new notices).

Then the flags of the copies are digested and compared (reconcile_bench.flag_digest).

    .venv/bin/python benchmarks/sweep_compare.py --db sqlite --notifications 100000 \\
        --old-ref 4eab022 --new-ref HEAD
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import (
    PYTHON,
    REPO,
    Backend,
    Database,
    env_for,
    existing_database,
    fresh_database,
    run_measured,
)
from generate import AS_OF, generate
from meldplicht.core.migrations import upgrade
from reconcile_bench import copy_database, export_source, flag_digest
from sweep_bench import _last_run


def sweep(db: Database, source: Path, day: Any, *, full: bool) -> dict[str, Any]:
    env = env_for(db)
    env["PYTHONPATH"] = str(source)
    args = [PYTHON, "-m", "meldplicht", "sweep", "--as-of", day.isoformat()]
    if full:
        args.append("--full")
    child = run_measured(args, env, timeout=3600)
    run = _last_run(db)
    keys = ("selected", "evaluated", "opened", "refreshed", "cleared", "errors", "flags_written")
    return {
        "as_of": day.isoformat(),
        "requested": "full" if full else "incremental",
        "ran_as": run.get("mode"),
        "status": run.get("status"),
        "returncode": child.returncode,
        "seconds": round(child.seconds, 2),
        "peak_rss_mb": round(child.peak_rss_mb),
        **{k: run.get(k) for k in keys},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--old-ref", required=True)
    parser.add_argument("--new-ref", default=None, help="a commit; default: the working tree")
    parser.add_argument(
        "--reuse", default=None, help="a database generate.py made (--name): not generated again"
    )
    parser.add_argument("--nights", type=int, default=3, choices=[1, 2, 3])
    args = parser.parse_args()
    backend: Backend = args.db
    result: dict[str, Any] = {"backend": backend, "notifications": args.notifications}
    if args.reuse:
        base = existing_database(backend, args.reuse)
        upgrade(base.url)  # the copies get the newest schema; older code ignores new columns
    else:
        base = fresh_database(backend, f"sweepcmp_{args.notifications}")
        result["generate_seconds"] = round(
            generate(base, args.notifications, seed=args.seed).seconds, 1
        )
    print(json.dumps(result), flush=True)
    new = export_source(args.new_ref) if args.new_ref else REPO / "src"
    versions = {"old": export_source(args.old_ref), "new": new}
    copies = {
        label: copy_database(base, f"sweepcmp_{args.notifications}_{label}") for label in versions
    }
    nights = [(AS_OF, True), (AS_OF + timedelta(days=1), True), (AS_OF + timedelta(days=2), False)]
    nights = nights[: args.nights]
    for night, (day, full) in enumerate(nights, 1):
        for label, source in versions.items():  # side by side, night by night
            entry = sweep(copies[label], source, day, full=full)
            result.setdefault(label, {})[f"night_{night}"] = entry
            print(json.dumps({label: entry}, default=str), flush=True)
    for label in versions:
        result[label]["flags"] = flag_digest(copies[label])
    result["identical_flags"] = result["old"]["flags"] == result["new"]["flags"]
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
