"""The query plans of payroll reconciliation's per-page SELECTs, as the database runs them.

One record page and one notification page (the second of each, so the keyset bound is set)
are run on a generated database with the statements captured as sent; each SELECT is then
explained with its own parameters (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN). Nothing
is written: the pages run in a transaction that is rolled back.

    MELDPLICHT_DATABASE_URL=sqlite:///benchmarks/.work/reconcile_100000.db \\
        .venv/bin/python benchmarks/reconcile_plans.py
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from meldplicht.core.config import get_settings
from meldplicht.core.db import create_db_engine
from meldplicht.models import import_all_models
from meldplicht.payroll.reconcile import NOTIFICATIONS, RECORDS, reconcile

AS_OF = date(2026, 3, 10)


def _shape(sql: str) -> str:
    """The statement with long IN lists shortened, for reading."""
    sql = re.sub(r"\s+", " ", sql)
    return re.sub(r"(\((?:\?|%\(\w+\)s|\$\d+)(?:, (?:\?|%\(\w+\)s|\$\d+)){3,}\))", "(...)", sql)


def main() -> None:
    import_all_models()
    engine = create_db_engine(get_settings().database_url)
    dialect = engine.dialect.name
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    for phase in (RECORDS, NOTIFICATIONS):
        with Session(engine) as session:
            first = reconcile(session, AS_OF, cursor=f"{phase}:", max_batches=1)
            event.listen(engine, "before_cursor_execute", capture)
            captured.clear()
            reconcile(session, AS_OF, cursor=first.cursor, max_batches=1)
            event.remove(engine, "before_cursor_execute", capture)
            print(f"## {dialect}: a {phase} page\n")
            seen: set[str] = set()
            for statement, parameters in captured:
                shape = _shape(statement)
                if shape in seen:
                    continue
                seen.add(shape)
                explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
                raw = session.connection().connection.dbapi_connection
                assert raw is not None
                cur = raw.cursor()
                cur.execute(explain + statement, parameters)
                plan = [row[-1] if dialect == "sqlite" else row[0] for row in cur.fetchall()]
                print(f"    {shape[:300]}")
                for line in plan:
                    print(f"      -> {line}")
                print()
            session.rollback()


if __name__ == "__main__":
    main()
