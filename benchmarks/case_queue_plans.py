"""The statements one case-queue page runs, each timed and with its plan, on the database a
`case_queue_bench.py` run generated (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).

    cd benchmarks && ../.venv/bin/python case_queue_plans.py --backend sqlite --cases 100000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from case_queue_bench import SCENARIOS
from common import existing_database
from meldplicht.core.db import create_db_engine
from meldplicht.inspection import case_queue


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--plans", action="store_true", help="print each statement's plan")
    parser.add_argument("--db-name", help="the database's name (default cases_<cases>)")
    args = parser.parse_args()
    db = existing_database(args.backend, args.db_name or f"cases_{args.cases}")
    engine = create_db_engine(db.url)
    statements: list[tuple[str, Any, float]] = []
    started: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        elapsed = (time.perf_counter() - started.pop(id(cursor))) * 1000
        statements.append((statement, parameters, elapsed))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    with Session(engine) as session:
        for sort, extra in SCENARIOS:
            flt = case_queue.CaseFilter(**extra)
            for _ in range(2):  # the second run is the one shown (warm cache)
                statements.clear()
                _rows, cursor, _count = case_queue.list_cases(
                    session, flt, sort=case_queue.CaseSort(sort), cursor=None, limit=50
                )
                case_queue.list_cases(
                    session, flt, sort=case_queue.CaseSort(sort), cursor=cursor, limit=50
                )
            shown = list(statements)
            print(f"\n## {sort} {extra}")
            for statement, parameters, elapsed in shown:
                print(f"\n{elapsed:8.2f} ms  {' '.join(statement.split())[:160]}")
                if not args.plans:
                    continue
                raw = session.connection().connection.dbapi_connection
                assert raw is not None
                cur = raw.cursor()
                if args.backend == "sqlite":
                    cur.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    for row in cur.fetchall():
                        print(f"    {row[1]:>3} {row[3]}")
                else:
                    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                    for row in cur.fetchall():
                        print(f"    {row[0]}")
    engine.dispose()


if __name__ == "__main__":
    main()
