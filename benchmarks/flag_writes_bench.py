"""The sweep's write phase alone: changed flags written the old way and the new way.

On a copy of a generated database (benchmarks/generate.py), batches of the sweep's size
(500 notifications) are written as `sweeps.flag_writes` writes a night's changes: every
content column of each changed flag, guarded by the row's version. Two ways, alternately,
each in a transaction rolled back afterwards (so every round writes the same rows):

- "executemany": SQLAlchemy's executemany of one UPDATE ... WHERE id = ? AND updated_at = ?
  (the flag writes before COPY; psycopg pipelines it);
- "copy": `core.db.update_rows_where_seen`, which on PostgreSQL COPYs the rows into a
  temporary table and applies them with one UPDATE ... FROM.

New flags too: a plain executemany INSERT against INSERT ... ON CONFLICT (fingerprint)
DO NOTHING RETURNING fingerprint. Prints JSON: seconds per round and rows per second.

    .venv/bin/python benchmarks/flag_writes_bench.py --db postgres --name pgw_100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from common import Backend, existing_database
from meldplicht.core.db import create_db_engine, update_rows_where_seen
from meldplicht.core.migrations import upgrade
from meldplicht.flags.models import Flag
from meldplicht.sweeps import flag_writes
from reconcile_bench import copy_database

TABLE: Table = Flag.__table__  # type: ignore[attr-defined]
KEYS = (*flag_writes.CONTENT, "status", "cleared_at", "reopened_count", "last_seen_at")
KEYS = (*KEYS, "last_evaluated_on", "updated_at")


def old_update(session: Session, rows: list[dict[str, Any]]) -> int:
    """The guarded update as it was: one SQLAlchemy executemany."""
    statement = (
        update(TABLE)
        .where(TABLE.c.id == bindparam("b_id"), TABLE.c.updated_at == bindparam("b_seen"))
        .values({k: bindparam(f"b_{k}") for k in KEYS})
    )
    params = [
        {"b_id": r["id"], "b_seen": r["seen"], **{f"b_{k}": r[k] for k in KEYS}} for r in rows
    ]
    return int(session.connection().execute(statement, params).rowcount)


def new_update(session: Session, rows: list[dict[str, Any]]) -> int:
    return update_rows_where_seen(
        session, TABLE, rows, KEYS, key="id", version="updated_at", seen="seen"
    )


def old_insert(session: Session, rows: list[dict[str, Any]]) -> int:
    session.execute(insert(TABLE), rows)
    return len(rows)


def new_insert(session: Session, rows: list[dict[str, Any]]) -> int:
    return len(flag_writes._insert_new(session, rows))


def changed_rows(session: Session, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The flags as the sweep would write them back: every column read, the score moved."""
    columns = [col(getattr(Flag, name)) for name in (*KEYS, "id")]
    rows = []
    for row in session.execute(sa_select(*columns).where(col(Flag.id).in_(ids))):
        values = dict(zip((*KEYS, "id"), row, strict=True))
        values["seen"] = values["updated_at"]
        values["risk_score"] += 1
        values["updated_at"] = values["updated_at"].replace(microsecond=1)
        rows.append(values)
    return rows


def new_rows(session: Session, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Copies of existing flags with new ids and fingerprints (as a night's new flags)."""
    rows = []
    names = [c.name for c in TABLE.columns]
    for row in session.execute(sa_select(TABLE).where(TABLE.c.id.in_(ids))):
        values = dict(zip(names, row, strict=True))
        values["id"] = uuid.uuid4()
        values["fingerprint"] = uuid.uuid4().hex + uuid.uuid4().hex
        values["case_id"] = None
        rows.append(values)
    return rows


def timed(
    engine: Any,
    make: Callable[[Session, list[uuid.UUID]], list[dict[str, Any]]],
    write: Callable[[Session, list[dict[str, Any]]], int],
    batches: list[list[uuid.UUID]],
) -> tuple[float, int]:
    """Seconds spent writing all batches (building the rows not counted), then rolled back."""
    spent = 0.0
    written = 0
    with Session(engine) as session, session.begin():
        for ids in batches:
            rows = make(session, ids)
            start = time.perf_counter()
            with session.begin_nested():
                written += write(session, rows)
            spent += time.perf_counter() - start
        session.rollback()
    return spent, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--name", required=True, help="a database generate.py made")
    parser.add_argument("--batch", type=int, default=500, help="changed flags per batch")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    backend: Backend = args.db
    db = copy_database(existing_database(backend, args.name), f"{args.name}_writes")
    upgrade(db.url)
    engine = create_db_engine(db.url)
    with Session(engine) as session:
        ids = list(
            session.execute(
                sa_select(col(Flag.id)).order_by(col(Flag.id)).limit(args.batch * args.batches)
            ).scalars()
        )
    batches = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
    ways = {
        "update executemany": (changed_rows, old_update),
        "update copy": (changed_rows, new_update),
        "insert executemany": (new_rows, old_insert),
        "insert on conflict": (new_rows, new_insert),
    }
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for way, (make, write) in ways.items():
            spent, counts[way] = timed(engine, make, write, batches)
            seconds[way].append(spent)
    result = {
        "backend": backend,
        "flags_in_db": args.name,
        "batch": args.batch,
        "batches": len(batches),
        **{
            way: {
                "rows": counts[way],
                "median_seconds": round(statistics.median(s), 3),
                "rows_per_second": round(counts[way] / statistics.median(s)),
                "rounds": [round(x, 3) for x in s],
            }
            for way, s in seconds.items()
        },
    }
    print(json.dumps(result, indent=2))
    engine.dispose()


if __name__ == "__main__":
    main()
