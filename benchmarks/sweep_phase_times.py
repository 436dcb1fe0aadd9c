"""The sweep's persons and employers phases, old code against new, on copies of one SQLite file.

Each version (`--old-ref`, `--new-ref`: commits, exported with git archive; the working tree
when `--new-ref` is left out) runs, in a child process with its `src` first on the path and on
its own copy of the database, the two cross-notification phases of a full sweep (the runner's
own preparation first, so a run is recorded as in a sweep), timed each in wall and CPU
seconds: as of the generator's day (its flags are judged), then again as of the same day
(nothing changes: the steady state of a night). The machine's load average is printed too.

    .venv/bin/python benchmarks/generate.py --db sqlite --notifications 100000 --name gen_100k
    .venv/bin/python benchmarks/sweep_phase_times.py --db-file benchmarks/.work/gen_100k.db \\
        --old-ref 7b9b6b1 --new-ref HEAD
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from common import PYTHON, REPO, WORK, Database, env_for
from generate import AS_OF
from reconcile_bench import export_source


def child(url: str, day: date) -> dict[str, Any]:
    """In the child: the persons and employers phases of a full sweep, each timed."""
    from sqlalchemy import create_engine

    from meldplicht.core.config import get_settings
    from meldplicht.models import import_all_models
    from meldplicht.sweeps import sweep as runner
    from meldplicht.sweeps.lock import sweep_lock

    import_all_models()
    engine = create_engine(url)
    settings = get_settings()
    out: dict[str, Any] = {"as_of": day.isoformat()}
    with sweep_lock(engine) as lock:
        run = runner._Sweep(
            engine, day, runner.SweepMode.FULL, runner.SweepTrigger.CLI, 500, None, settings, lock
        )
        run._prepare()
        if hasattr(run, "_persons"):  # before the split: methods of the runner
            phases = {"persons": run._persons, "employers": run._employers}
        else:
            from meldplicht.sweeps.phases import employers, persons

            phases = {
                "persons": lambda: persons.run(run),
                "employers": lambda: employers.run(run, run._can_be_late()),
            }
        for name, phase in phases.items():
            started = time.perf_counter(), time.process_time()
            phase()
            out[name] = {
                "wall": round(time.perf_counter() - started[0], 2),
                "cpu": round(time.process_time() - started[1], 2),
            }
        run._finish(runner.SweepStatus.SUCCEEDED)
    counts = run.tally.as_counts()
    out["counts"] = {k: counts.get(k) for k in ("persons", "employers", "opened", "cleared")}
    out["counts"]["flags_written"] = counts.get("flags_written", 0)
    return out


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-file", type=Path)
    parser.add_argument("--old-ref", required=False)
    parser.add_argument("--new-ref", default=None, help="a commit; default: the working tree")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, date.fromisoformat(args.as_of))), flush=True)
        return
    if args.db_file is None or args.old_ref is None:
        parser.error("--db-file and --old-ref are required")
    versions = {
        "old": export_source(args.old_ref),
        "new": export_source(args.new_ref) if args.new_ref else REPO / "src",
    }
    for label, source in versions.items():
        path = WORK / f"phase_times_{label}.db"
        with sqlite3.connect(args.db_file) as original, sqlite3.connect(path) as copy:
            original.backup(copy)
        db = Database("sqlite", path.stem, f"sqlite:///{path}", path)
        env = env_for(db)
        env["PYTHONPATH"] = str(source)
        for day in (AS_OF, AS_OF):
            before = load()
            out = (
                subprocess.run(
                    [PYTHON, __file__, "--child", db.url, "--as-of", day.isoformat()],
                    env=env,
                    cwd=Path(__file__).parent,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            entry = {"version": label, "load_before": before, "load_after": load()}
            entry.update(json.loads(out))
            print(json.dumps(entry), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
