"""Payroll reconciliation at scale, old code against new on the same generated database.

One database is generated, then copied once per code version (SQLite: the file; PostgreSQL:
CREATE DATABASE ... TEMPLATE), so both start from identical rows. Each version runs the
sweep's payroll phase as the full sweep does (one batch per transaction, committed), twice
for the same day (the second night changes nothing), in a child process with that version's
`src` first on the path; then the flags of the two copies are compared row for row.

    .venv/bin/python benchmarks/reconcile_bench.py --db sqlite --notifications 100000 \\
        --old-ref 9a8b03c

`--old-ref` is a git commit whose `src` is exported to benchmarks/.work (never checked out).
With `--full-sweep` each copy then also runs `meldplicht sweep --full` for the same day.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from common import (
    PG_ADMIN_DSN,
    PYTHON,
    REPO,
    WORK,
    Backend,
    Database,
    env_for,
    fresh_database,
    pg_base,
    run_measured,
)
from generate import AS_OF, generate

CHILD = """
import json, sys, time
from datetime import date
from sqlmodel import Session
import meldplicht
from meldplicht.models import import_all_models
import_all_models()  # every table, for the flag updates
from meldplicht.core.config import get_settings
from meldplicht.core.db import create_db_engine
from meldplicht.flags.sync import forget_cached_facts
from meldplicht.payroll.reconcile import reconcile

as_of = date.fromisoformat(sys.argv[1])
engine = create_db_engine(get_settings().database_url)
totals = {}
started = time.perf_counter()
cursor = None
batches = 0
while True:
    with Session(engine, expire_on_commit=False) as session:
        counts = reconcile(session, as_of, cursor=cursor, batch_size=500, max_batches=1)
        session.commit()
        forget_cached_facts(session)
    batches += 1
    for key, value in counts.as_dict().items():
        totals[key] = totals.get(key, 0) + value
    cursor = counts.cursor
    if cursor is None:
        break
totals["batches"] = batches
totals["seconds"] = round(time.perf_counter() - started, 2)
totals["code"] = meldplicht.__file__
print(json.dumps(totals))
"""


def export_source(ref: str) -> Path:
    """`src` of a commit, exported (git archive) into the work folder."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    target = WORK / f"src_{commit}"
    if not (target / "src" / "meldplicht").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit, "src"], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def copy_database(db: Database, name: str) -> Database:
    if db.backend == "sqlite":
        assert db.path is not None
        copy = fresh_database("sqlite", name)
        assert copy.path is not None
        with sqlite3.connect(db.path) as source, sqlite3.connect(copy.path) as target:
            source.backup(target)
        return copy
    dbname = f"bench_{name}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "bench_{db.name}"')
    url = f"{pg_base()}/{dbname}".replace("postgresql://", "postgresql+psycopg://")
    return Database("postgres", name, url)


def reconcile_run(db: Database, source: Path) -> dict[str, Any]:
    env = env_for(db)
    env["PYTHONPATH"] = str(source)
    child = run_measured([PYTHON, "-c", CHILD, AS_OF.isoformat()], env)
    out: dict[str, Any] = {"returncode": child.returncode, "peak_rss_mb": round(child.peak_rss_mb)}
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if lines:
        out.update(json.loads(lines[-1]))
    else:
        out["stderr"] = child.stderr[-2000:]
    return out


def full_sweep(db: Database, source: Path) -> dict[str, Any]:
    env = env_for(db)
    env["PYTHONPATH"] = str(source)
    args = [PYTHON, "-m", "meldplicht", "sweep", "--as-of", AS_OF.isoformat(), "--full"]
    child = run_measured(args, env)
    return {
        "returncode": child.returncode,
        "seconds": round(child.seconds, 2),
        "peak_rss_mb": round(child.peak_rss_mb),
    }


def flag_digest(db: Database) -> dict[str, Any]:
    """Every flag's identity and state, digested: equal digests mean equal flags."""
    sql = (
        "SELECT subject_type, subject_id, rule_code, fingerprint, status, condition_present,"
        " severity, risk_score FROM flag ORDER BY subject_type, subject_id, rule_code, fingerprint"
    )
    digest = hashlib.sha256()
    rows = 0
    if db.backend == "sqlite":
        with sqlite3.connect(db.driver_dsn) as lite:
            cursor: Any = lite.execute(sql)
            for row in cursor:
                digest.update(repr(tuple(str(v) for v in row)).encode())
                rows += 1
    else:
        with psycopg.connect(db.driver_dsn) as pg:
            for row in pg.execute(sql.encode()):
                digest.update(repr(tuple(str(v) for v in row)).encode())
                rows += 1
    return {"flags": rows, "sha256": digest.hexdigest()[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--old-ref", required=True)
    parser.add_argument("--full-sweep", action="store_true")
    args = parser.parse_args()
    backend: Backend = args.db
    base = fresh_database(backend, f"reconcile_{args.notifications}")
    generated = generate(base, args.notifications, seed=args.seed)
    result: dict[str, Any] = {
        "backend": backend,
        "notifications": args.notifications,
        "generate_seconds": round(generated.seconds, 1),
        "payroll_records": generated.counts.get("payroll_record"),
    }
    versions = {"old": export_source(args.old_ref), "new": REPO / "src"}
    for label, source in versions.items():
        db = copy_database(base, f"reconcile_{args.notifications}_{label}")
        entry: dict[str, Any] = {"source": str(source)}
        entry["first_night"] = reconcile_run(db, source)
        entry["second_night"] = reconcile_run(db, source)
        entry["flags"] = flag_digest(db)
        if args.full_sweep:
            entry["full_sweep"] = full_sweep(db, source)
        result[label] = entry
        print(json.dumps({label: entry}, default=str), flush=True)
    result["identical_flags"] = result["old"]["flags"] == result["new"]["flags"]
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
