"""The sweep at scale: `meldplicht sweep --full` and a typical incremental day, with two floors.

Floors, on the same rows the sweep selects: (1) reading them into Python with the raw driver
and doing nothing; (2) one bare SQL statement that computes only the minimum-wage comparison.

    .venv/bin/python benchmarks/sweep_bench.py --db sqlite --notifications 10000
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg

from common import (
    MELDPLICHT,
    Backend,
    Database,
    database_bytes,
    env_for,
    fresh_database,
    run_measured,
)
from generate import AS_OF, World, Writer, generate, generate_batch, hourly_minimum, make_world

GRACE_DAYS = 31  # sweeps.sweep.TERMINATED_GRACE_DAYS
DAY_SHARE = 0.0022  # 10 x the national rate: ~2,200 new notices a day at 1M


def _selected_where(grace: date) -> str:
    return f"(n.status = 'active' OR (n.status = 'terminated' AND n.end_date >= '{grace}'))"


def floor_read(db: Database, as_of: date) -> dict[str, Any]:
    """Every selected notification and its worker, read with the raw driver, nothing done."""
    grace = as_of - timedelta(days=GRACE_DAYS)
    where = _selected_where(grace)
    sql = f"SELECT n.*, w.* FROM notification n JOIN worker w ON w.id = n.worker_id WHERE {where} ORDER BY n.id"  # noqa: E501, S608 - a date of ours
    rows = 0
    started = time.perf_counter()
    if db.backend == "postgres":
        with psycopg.connect(db.driver_dsn) as pg, pg.cursor(name="floor") as cur:
            cur.itersize = 5000
            cur.execute(sql.encode())
            for _ in cur:
                rows += 1
    else:
        with sqlite3.connect(db.driver_dsn) as lite:
            for _ in lite.execute(sql):
                rows += 1
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": _rate(rows, seconds)}


def floor_sql(db: Database, as_of: date) -> dict[str, Any]:
    """Only the minimum-wage comparison, in one SQL statement over the same rows."""
    grace = as_of - timedelta(days=GRACE_DAYS)
    rates = hourly_minimum(as_of)
    values = ", ".join(f"({age}, {rate})" for age, rate in sorted(rates.items()))
    low, high = min(rates), max(rates)
    if db.backend == "postgres":
        age = f"date_part('year', age(DATE '{as_of}', w.birth_date))::int"
        clamp = f"LEAST(GREATEST({age}, {low}), {high})"
    else:
        age = (
            f"(CAST(strftime('%Y', '{as_of}') AS INTEGER) - CAST(strftime('%Y', w.birth_date) "
            f"AS INTEGER) - (strftime('%m-%d', '{as_of}') < strftime('%m-%d', w.birth_date)))"
        )
        clamp = f"MIN(MAX({age}, {low}), {high})"
    sql = f"""
        WITH wml(age, rate) AS (VALUES {values}),
        declared AS (
            SELECT {clamp} AS age,
                   CASE n.wage_period
                       WHEN 'hour' THEN n.wage_amount
                       WHEN 'week' THEN n.wage_amount / NULLIF(n.hours_per_week, 0)
                       WHEN 'four_weeks' THEN n.wage_amount / NULLIF(4 * n.hours_per_week, 0)
                       ELSE n.wage_amount * 3 / NULLIF(13 * n.hours_per_week, 0)
                   END AS hourly
            FROM notification n JOIN worker w ON w.id = n.worker_id
            WHERE {_selected_where(grace)}
        )
        SELECT count(*), SUM(CASE WHEN d.hourly < wml.rate THEN 1 ELSE 0 END)
        FROM declared d JOIN wml ON wml.age = d.age
    """  # noqa: S608 - dates and rates are ours, not input
    started = time.perf_counter()
    if db.backend == "postgres":
        with psycopg.connect(db.driver_dsn) as pg:
            row = pg.execute(sql.encode()).fetchone()
    else:
        with sqlite3.connect(db.driver_dsn) as lite:
            row = lite.execute(sql).fetchone()
    seconds = time.perf_counter() - started
    assert row is not None
    rows, below = int(row[0]), int(row[1] or 0)
    return {
        "rows": rows,
        "below_minimum": below,
        "seconds": round(seconds, 3),
        "rows_per_second": _rate(rows, seconds),
    }


def _rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else 0.0


def _last_run(db: Database) -> dict[str, Any]:
    sql = "SELECT mode, status, counts FROM sweep_run ORDER BY started_at DESC LIMIT 1"
    if db.backend == "postgres":
        with psycopg.connect(db.driver_dsn) as conn:
            row = conn.execute(sql).fetchone()
            if row is None:
                return {}
            counts = row[2] if isinstance(row[2], dict) else json.loads(row[2])
    else:
        with sqlite3.connect(db.driver_dsn) as conn:
            row = conn.execute(sql).fetchone()
            if row is None:
                return {}
            counts = json.loads(row[2])
    return {"mode": row[0], "status": row[1], **counts}


def run_sweep(db: Database, as_of: date, *, full: bool, timeout: float) -> dict[str, Any]:
    """`meldplicht sweep` as a child process: wall time, peak RSS, and the run's own counts."""
    args = [MELDPLICHT, "sweep", "--as-of", as_of.isoformat()]
    if full:
        args.append("--full")
    child = run_measured(args, env_for(db), timeout=timeout)
    run = _last_run(db)
    evaluated = int(run.get("evaluated", 0))
    out: dict[str, Any] = {
        "requested": "full" if full else "incremental",
        "ran_as": run.get("mode"),
        "status": (
            run.get("status")
            if child.returncode in (0, 2)
            else "stopped at the time limit"
            if child.seconds >= timeout
            else "killed/failed"
        ),
        "returncode": child.returncode,
        "seconds": round(child.seconds, 2),
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "selected": int(run.get("selected", 0)),
        "evaluated": evaluated,
        "persons": int(run.get("persons", 0)),
        "employers": int(run.get("employers", 0)),
        "opened": int(run.get("opened", 0)),
        "cleared": int(run.get("cleared", 0)),
        "errors": int(run.get("errors", 0)),
        "rows_per_second": _rate(evaluated, child.seconds),
        "timed_out": child.seconds >= timeout,
        "counts": run,
    }
    if child.returncode not in (0, 2):
        out["stderr_tail"] = child.stderr[-500:]
    return out


def mark_swept(db: Database, as_of: date, batch: int = 5000) -> dict[str, Any]:
    """Leave the database as a finished full sweep as of `as_of` would: every notification in
    the sweep's scope gets next_check_date from the same function the sweep uses, every one
    its next cross-notification and payroll dates (rules/checks/schedule.py), and a
    succeeded full run as of that day is recorded (its counts say it was marked). Flags are
    left as the generator wrote them (they are what `sync_flags` would give for the planted
    problems). Only used when the full sweep was stopped at its time limit."""
    from sqlalchemy import update
    from sqlmodel import Session, col, select

    from meldplicht.core.clock import utcnow
    from meldplicht.core.db import create_db_engine
    from meldplicht.models import import_all_models
    from meldplicht.notifications.facts import facts_of
    from meldplicht.notifications.models import Notification, NotificationStatus, Worker
    from meldplicht.rules.checks import next_change_date
    from meldplicht.rules.checks.schedule import next_crossing_date
    from meldplicht.rules.params import get_parameters
    from meldplicht.sweeps.dirty import changes_through
    from meldplicht.sweeps.models import SweepRun
    from meldplicht.sweeps.sweep import (
        EMPLOYER_SCOPE,
        NEVER,
        PAYROLL_SCOPE,
        PERSON_SCOPE,
        SweepMode,
        SweepStatus,
        SweepTrigger,
    )

    import_all_models()
    params = get_parameters()
    cross = PERSON_SCOPE | EMPLOYER_SCOPE
    grace = as_of - timedelta(days=GRACE_DAYS)
    engine = create_db_engine(db.url)
    started = time.perf_counter()
    marked = 0
    last: uuid.UUID | None = None
    try:
        while True:
            with Session(engine) as session, session.begin():
                query = select(Notification, Worker).join(
                    Worker, col(Worker.id) == col(Notification.worker_id)
                )
                if last is not None:
                    query = query.where(col(Notification.id) > last)
                rows = list(session.exec(query.order_by(col(Notification.id)).limit(batch)))
                if not rows:
                    break
                values = []
                for n, w in rows:
                    closed = n.status == NotificationStatus.WITHDRAWN or (
                        n.status == NotificationStatus.TERMINATED
                        and n.end_date is not None
                        and n.end_date < grace
                    )
                    days = {
                        "notice_date": n.notice_date,
                        "start_date": n.start_date,
                        "end_date": n.end_date,
                        "document_valid_until": w.document_valid_until,
                    }
                    value: dict[str, Any] = {
                        "id": n.id,
                        "next_cross_date": next_crossing_date(days, as_of, cross, params) or NEVER,
                        "next_payroll_date": (
                            next_crossing_date(days, as_of, PAYROLL_SCOPE, params) or NEVER
                        ),
                    }
                    if not closed:
                        nxt = next_change_date(facts_of(n, w), as_of, params) or NEVER
                        value["next_check_date"] = nxt
                    values.append(value)
                for keys in {frozenset(v) for v in values}:
                    session.execute(update(Notification), [v for v in values if set(v) == keys])
                marked += sum("next_check_date" in v for v in values)
                last = rows[-1][0].id
        now = utcnow()
        with Session(engine) as session, session.begin():
            session.add(
                SweepRun(
                    as_of=as_of,
                    mode=SweepMode.FULL,
                    status=SweepStatus.SUCCEEDED,
                    trigger=SweepTrigger.CLI,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=now,
                    changes_through=changes_through(session, now),
                    counts={"marked_by_benchmark": marked},
                )
            )
    finally:
        engine.dispose()
    return {"notifications": marked, "seconds": round(time.perf_counter() - started, 1)}


def add_day(db: Database, world: World, first: int, count: int, day: date) -> None:
    """A day's intake: `count` new notices received on `day`, each a new person."""
    workers: dict[tuple[int, int], uuid.UUID] = {}
    batch = generate_batch(world, first, first + count, workers, notice_on=day, new_persons=True)
    writer = Writer(db)
    for table, rows in batch.rows.items():
        writer.write(table, rows)
    writer.finish()


def _close_never_swept(db: Database) -> int:
    """The data workaround for the incremental fallback (see the report): closed notices the
    full sweep never selects keep next_check_date NULL and count as "touched" forever."""
    sql = (
        "UPDATE notification SET next_check_date = '9999-12-31' "
        "WHERE next_check_date IS NULL AND status IN ('withdrawn', 'terminated')"
    )
    if db.backend == "postgres":
        with psycopg.connect(db.driver_dsn) as conn:
            return conn.execute(sql).rowcount
    with sqlite3.connect(db.driver_dsn) as conn:
        return conn.execute(sql).rowcount


def bench_sweep(
    backend: Backend,
    notifications: int,
    *,
    seed: int,
    timeout: float,
    incremental_timeout: float | None = None,
    before_sweep: Callable[[Database], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Generate, read the floors, (run `before_sweep`, e.g. the queue), sweep full, then a day.

    The database is left in place for later benchmarks (its URL is in the result)."""
    db = fresh_database(backend, f"sweep_{notifications}")
    generated = generate(db, notifications, seed=seed)
    out: dict[str, Any] = {
        "backend": backend,
        "notifications": notifications,
        "generate_seconds": round(generated.seconds, 1),
        "generate_rows": generated.total_rows,
        "generate_rows_per_second": _rate(generated.total_rows, generated.seconds),
        "rows": generated.counts,
        "database_mb": round(database_bytes(db) / 2**20, 1),
    }
    out["floor_read"] = floor_read(db, AS_OF)
    out["floor_sql"] = floor_sql(db, AS_OF)
    if before_sweep is not None:
        out["before_sweep"] = before_sweep(db)
    out["full"] = run_sweep(db, AS_OF, full=True, timeout=timeout)
    if out["full"]["timed_out"]:
        # An incremental day needs a finished full run before it: stand in for the rest of
        # the stopped one by giving every notification the next_check_date it would have set.
        out["marked"] = mark_swept(db, AS_OF)
    # A typical day after the nightly full run: the day's new notices, then the default mode.
    # It gets its own, shorter time limit: the target is seconds, and a run that falls back
    # to a full sweep is a miss however long it takes.
    timeout = incremental_timeout or timeout
    world = make_world(seed, notifications)
    per_day = max(50, round(notifications * DAY_SHARE))
    day1 = AS_OF + timedelta(days=1)
    add_day(db, world, notifications, per_day, day1)
    out["day_notices"] = per_day
    out["incremental"] = run_sweep(db, day1, full=False, timeout=timeout)
    if out["incremental"]["ran_as"] != "incremental":
        # Measure the incremental path itself too, with the data workaround applied.
        day2 = day1 + timedelta(days=1)
        add_day(db, world, notifications + per_day, per_day, day2)
        out["patched_rows"] = _close_never_swept(db)
        out["incremental_patched"] = run_sweep(db, day2, full=False, timeout=timeout)
    out["url"] = db.url
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    random.seed(args.seed)
    result = bench_sweep(args.db, args.notifications, seed=args.seed, timeout=args.timeout)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
