"""The sweep on a copy of a kept database, with wall time per phase, peak RSS and the load.

Generating the 1M databases takes minutes each; this measures on a copy of one kept from
earlier (`--from`: an SQLite file, or a PostgreSQL database used as a TEMPLATE), so merged
code can be measured again on the same rows. Each night runs `run_sweep` in a child process
(the code under `--source`, default this tree's `src`) whose `_Sweep` phases are wrapped with
timers; the child's peak RSS is its VmHWM read from /proc (common.run_measured).

Nights, in order (`--nights`): `full` (`--full` as of the next day in line), `day` (the day's
new notices, 0.22% of N, added as received that day, then the default incremental run).

    .venv/bin/python benchmarks/sweep_phases.py --db sqlite --from /work/bench1m/measure1m.db \\
        --notifications 1000000 --nights full,day
    .venv/bin/python benchmarks/sweep_phases.py --db postgres --from bench1m_src \\
        --notifications 1000000 --nights full,day
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from datetime import timedelta
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
    peak_rss_mb,
    pg_base,
)
from generate import AS_OF, make_world
from sweep_bench import DAY_SHARE, _last_run, add_day

# The child: run_sweep with every phase method of _Sweep timed; phase lines go to stderr as
# they happen (so a stopped run still says where it was), the summary to stdout as JSON.
CHILD = r"""
import json, sys, time
from datetime import date
from meldplicht.core.config import get_settings
from meldplicht.core.db import create_db_engine
from meldplicht.sweeps import sweep as S

phases = {}
cpu = {}
t0 = time.perf_counter()

# Exclusive CPU and wall time per section: entering a section pauses the one around it, so
# the sections add up to the run (a phase's own remainder is what no inner section took:
# reading and loading rows, the loop itself).
sections = {}
stack = []

def _enter(label):
    now = (time.process_time(), time.perf_counter())
    if stack:
        outer = stack[-1]
        acc = sections.setdefault(outer[0], [0.0, 0.0, 0])
        acc[0] += now[0] - outer[1]
        acc[1] += now[1] - outer[2]
    stack.append([label, now[0], now[1]])

def _leave():
    now = (time.process_time(), time.perf_counter())
    label, c, w = stack.pop()
    acc = sections.setdefault(label, [0.0, 0.0, 0])
    acc[0] += now[0] - c
    acc[1] += now[1] - w
    acc[2] += 1
    if stack:
        stack[-1][1], stack[-1][2] = now

def section(owner, name, label):
    fn = getattr(owner, name, None)
    if fn is None:
        return
    def timed(*args, **kwargs):
        _enter(label)
        try:
            return fn(*args, **kwargs)
        finally:
            _leave()
    setattr(owner, name, timed)

def wrap(owner, name, label):
    fn = getattr(owner, name, None)
    if fn is None:
        return
    def timed(*args, **kwargs):
        started = time.perf_counter()
        cpu_started = time.process_time()
        print(f"{started - t0:9.2f} start {label}", file=sys.stderr, flush=True)
        _enter("phase " + label)
        try:
            return fn(*args, **kwargs)
        finally:
            _leave()
            took = time.perf_counter() - started
            phases[label] = round(phases.get(label, 0.0) + took, 3)
            cpu[label] = round(cpu.get(label, 0.0) + time.process_time() - cpu_started, 3)
            print(f"{time.perf_counter() - t0:9.2f} end {label} {took:.2f}", file=sys.stderr,
                  flush=True)
    setattr(owner, name, timed)

for name in ("_prepare", "_retention", "_notifications", "_collect_dirty", "_persons",
             "_employers", "_payroll", "_registers", "_finish"):
    wrap(S._Sweep, name, name.lstrip("_"))
wrap(S, "after_sweep", "after_sweep")

import sqlalchemy.orm
import meldplicht.rules.checks as checks
import meldplicht.rules.checks.payroll as payroll_rules
import meldplicht.payroll.reconcile as reconcile
from meldplicht.sweeps import flag_writes
section(S, "facts_of", "facts: ORM rows to rule facts")
section(S, "judge", "rules: verdicts")
section(checks.Judgement, "explain", "rules: explanations")
section(S, "next_change_date", "rules: next check date")
section(S, "first_postcodes", "read: first postcodes")
for name in ("check_person_total_hours", "check_many_employers", "check_repeatedly_late"):
    section(S, name, "rules: cross-notification")
for name in ("check_paid_period", "check_no_payroll_after_start"):
    section(payroll_rules, name, "rules: payroll")
section(flag_writes, "sync_each_on_failure", "flag writes (sweep)")
section(reconcile, "sync_flags_each_on_failure", "flag writes (payroll)")
section(sqlalchemy.orm.Session, "commit", "commit")
section(sqlalchemy.orm.Session, "execute", "SQL execute (rows fetched later count to the caller)")

calls = {}
def progress(phase, done, total):
    calls[phase] = calls.get(phase, 0) + 1
    if calls[phase] % 100 == 0:
        print(f"{time.perf_counter() - t0:9.2f} progress {phase} batches={calls[phase]} "
              f"done={done} total={total}", file=sys.stderr, flush=True)

def report(run):
    print(json.dumps({"status": str(run.status) if run else "stopped",
                      "mode": str(run.mode) if run else None, "phases": phases,
                      "phases_cpu": cpu, "seconds_in_child": round(time.perf_counter() - t0, 2),
                      "cpu_seconds_in_child": round(time.process_time(), 2),
                      "sections": {k: {"cpu": round(v[0], 2), "wall": round(v[1], 2),
                                       "calls": v[2]} for k, v in sorted(
                          sections.items(), key=lambda kv: -kv[1][0])},
                      "counts": run.counts if run else None}, default=str), flush=True)

import signal
def stop(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, stop)

day = date.fromisoformat(sys.argv[1])
mode = S.SweepMode.FULL if sys.argv[2] == "full" else S.SweepMode.INCREMENTAL
settings = get_settings()
engine = create_db_engine(settings.database_url)
run = None
try:
    run = S.run_sweep(engine, day, mode=mode, trigger=S.SweepTrigger.CLI, progress=progress,
                      settings=settings)
except KeyboardInterrupt:
    print("stopped at the time limit", file=sys.stderr, flush=True)
finally:
    engine.dispose()
    report(run)
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def copy_kept(backend: Backend, source: str, name: str) -> Database:
    """A fresh copy of a kept database: the SQLite file copied, or CREATE DATABASE TEMPLATE."""
    if backend == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, path)
        return Database("sqlite", name, f"sqlite:///{path}", path)
    dbname = f"bench_{name}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{source}"')
    url = f"{pg_base()}/{dbname}".replace("postgresql://", "postgresql+psycopg://")
    return Database("postgres", name, url)


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process so far (Linux /proc), None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pg_backends(dbname: str) -> list[int]:
    """The PostgreSQL server processes serving `dbname` (their title names the database)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {dbname} " in title:
            pids.append(int(entry.name))
    return pids


def measured(args: list[str], env: dict[str, str], db: Database, timeout: float) -> dict[str, Any]:
    """Run the child: wall time, peak RSS (VmHWM), and on PostgreSQL the CPU seconds of the
    server processes serving its database (sampled every 0.2 s while it runs; a shared
    machine's load inflates wall time, CPU time much less)."""
    WORK.mkdir(parents=True, exist_ok=True)
    out_path = WORK / f"phases.{os.getpid()}.stdout"
    err_path = WORK / f"phases.{os.getpid()}.stderr"
    backends: dict[int, float] = {}
    dbname = f"bench_{db.name}"
    peak = 0.0
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, cwd=WORK)
        last_scan = 0.0
        while True:
            peak = max(peak, peak_rss_mb(proc.pid))
            now = time.perf_counter()
            if db.backend == "postgres" and now - last_scan > 0.2:
                last_scan = now
                for pid in _pg_backends(dbname):
                    seconds = _cpu_seconds(pid)
                    if seconds is not None:
                        backends[pid] = max(backends.get(pid, 0.0), seconds)
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                if now - started > timeout:
                    proc.terminate()  # the child reports what it did so far, then ends
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                    break
        seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "returncode": proc.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak),
        "timed_out": seconds >= timeout,
        "stdout": out_path.read_text(errors="replace"),
        "stderr": err_path.read_text(errors="replace"),
    }
    if db.backend == "postgres":
        result["pg_server_cpu_seconds"] = round(sum(backends.values()), 2)
    return result


def night(db: Database, source: Path, day: Any, *, full: bool, timeout: float) -> dict[str, Any]:
    env = env_for(db)
    env["PYTHONPATH"] = str(source)
    load_before = uptime()
    child = measured(
        [PYTHON, "-c", CHILD, day.isoformat(), "full" if full else "incremental"],
        env,
        db,
        timeout,
    )
    out: dict[str, Any] = {
        "as_of": day.isoformat(),
        "requested": "full" if full else "incremental",
        "uptime_before": load_before,
        "uptime_after": uptime(),
        **{k: v for k, v in child.items() if k not in ("stdout", "stderr")},
    }
    lines = [line for line in child["stdout"].splitlines() if line.startswith("{")]
    if lines:
        out.update(json.loads(lines[-1]))
    else:
        out["last_run"] = _last_run(db)
        out["stderr_tail"] = child["stderr"][-1500:]
    out["phase_log_tail"] = [
        line for line in child["stderr"].splitlines() if " start " in line or " end " in line
    ][-24:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--from", dest="source_db", required=True, help="SQLite file or PG db")
    parser.add_argument("--notifications", type=int, required=True, help="N it was made with")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--name", default=None, help="the copy's name (default phases_<pid>)")
    parser.add_argument("--source", default=str(REPO / "src"), help="the code's src folder")
    parser.add_argument("--nights", default="full,day")
    parser.add_argument("--timeout", type=float, default=1500)
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    args = parser.parse_args()
    db = copy_kept(args.db, args.source_db, args.name or f"phases_{os.getpid()}")
    result: dict[str, Any] = {"backend": args.db, "from": args.source_db, "url": db.url}
    day = AS_OF
    added = args.notifications
    world = None
    per_day = max(50, round(args.notifications * DAY_SHARE))
    started = time.perf_counter()
    try:
        for i, kind in enumerate(args.nights.split(",")):
            if i:
                day += timedelta(days=1)
            if kind == "day":
                world = world or make_world(args.seed, args.notifications)
                add_day(db, world, added, per_day, day)
                added += per_day
            entry = night(db, Path(args.source), day, full=kind == "full", timeout=args.timeout)
            if kind == "day":
                entry["day_notices"] = per_day
            result[f"night_{i + 1}_{kind}"] = entry
            print(json.dumps({f"night_{i + 1}_{kind}": entry}, default=str), flush=True)
            if entry["timed_out"]:
                break
    finally:
        if not args.keep:
            from common import drop_database

            drop_database(db)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
