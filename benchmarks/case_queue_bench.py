"""The case queue at scale: pages of 50 by risk, back pay and age, with and without filters,
over `inspection.case_queue.list_cases` in process (the SQL the API runs; no HTTP), on a
database of N cases over N employers and M flags generated straight into the tables.

    .venv/bin/python benchmarks/case_queue_bench.py --backend sqlite --cases 100000 --flags 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from common import existing_database, fresh_database, percentile
from meldplicht.core.db import create_db_engine, insert_plain_rows
from meldplicht.core.migrations import upgrade
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag
from meldplicht.inspection import case_queue
from meldplicht.inspection.models import Case, CaseRule

PROVINCES = ("Zuid-Holland", "Noord-Holland", "Noord-Brabant", "Gelderland", "Utrecht")
SECTORS = ("Glastuinbouw", "Schoonmaak", "Logistiek", "Vleesverwerking")
RULES = (("BELOW_MINIMUM_WAGE", "high"), ("LATE_NOTICE", "medium"), ("PAST_DECLARED_END", "low"))
STATUSES = ("open",) * 6 + ("claimed", "investigating", "closed", "closed")
BATCH = 20_000


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    table = model.__table__
    insert_plain_rows(session, table, rows, list(rows[0]))


def generate(url: str, cases: int, flags: int, seed: int = 7, flag_rows_too: bool = True) -> None:
    rnd = random.Random(seed)  # benchmark data, not security
    engine = create_db_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    per_case = max(1, flags // cases)
    with Session(engine) as session, session.begin():
        for start in range(0, cases, BATCH):
            employers: list[dict[str, Any]] = []
            case_rows: list[dict[str, Any]] = []
            flag_rows: list[dict[str, Any]] = []
            rule_rows: list[dict[str, Any]] = []  # what cases.refresh_rules keeps
            for i in range(start, min(cases, start + BATCH)):
                employer_id, case_id = uuid.uuid4(), uuid.uuid4()
                sector, province = rnd.choice(SECTORS), rnd.choice(PROVINCES)
                employers.append(
                    {"id": employer_id, "kvk_number": f"{10_000_000 + i}", "name": f"Werkgever {i}",
                     "sector": sector, "is_staffing_agency": False, "created_at": now}
                )  # fmt: skip
                severities = [rnd.choice(RULES) for _ in range(per_case)]
                status = rnd.choice(STATUSES)
                for rule in sorted({r for r, _ in severities}):
                    n = sum(r == rule for r, _ in severities)
                    rule_rows.append(
                        {"case_id": case_id, "rule_code": rule, "case_status": status,
                         "open_flags": n}
                    )  # fmt: skip
                case_rows.append(
                    {
                        "id": case_id, "reference": f"Z-2026-{i:08d}", "employer_id": employer_id,
                        "status": status, "sector": sector, "province": province,
                        "risk_score": rnd.randint(10, 400), "risk_breakdown": {},
                        "active_flags": per_case,
                        "flags_high": sum(s == "high" for _, s in severities),
                        "flags_medium": sum(s == "medium" for _, s in severities),
                        "flags_low": sum(s == "low" for _, s in severities),
                        "rules": sorted({r for r, _ in severities}),
                        "workers_affected": rnd.randint(1, 30),
                        "back_pay": Decimal(rnd.randint(0, 5_000_000)) / 100,
                        "condition_since": date(2026, 1, 1) + timedelta(days=rnd.randint(0, 330)),
                        "due_on": date(2026, 12, 1) + timedelta(days=rnd.randint(-20, 30)),
                        "opened_at": now, "updated_at": now,
                    }
                )  # fmt: skip
                for rule, severity in severities:
                    fid = uuid.uuid4()
                    flag_rows.append(
                        {
                            "id": fid, "fingerprint": fid.hex + fid.hex, "rule_code": rule,
                            "rule_version": "1", "subject_type": "employer",
                            "subject_id": str(employer_id), "period_key": "",
                            "employer_id": employer_id, "case_id": case_id,
                            "severity": severity, "status": "open", "risk_score": 50,
                            "risk_breakdown": {}, "workers_affected": 1, "sector": sector,
                            "province": province, "legal_basis": "-", "message_nl": "-",
                            "message_en": "-", "evidence": {}, "parameters": [],
                            "source": "sweep", "condition_present": True,
                            "first_seen_at": now, "last_seen_at": now, "reopened_count": 0,
                            "updated_at": now,
                        }
                    )  # fmt: skip
            _insert(session, Employer, employers)
            _insert(session, Case, case_rows)
            if flag_rows_too:
                _insert(session, Flag, flag_rows)
            _insert(session, CaseRule, rule_rows)
    engine.dispose()
    analyze(url)


def analyze(url: str) -> None:
    """Refresh the planner's statistics, as a DBA would after a bulk load or a new index."""
    engine = create_db_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


SCENARIOS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("risk", {}),
    ("back_pay", {}),
    ("age", {}),
    ("risk", {"province": "Zuid-Holland", "severities": ("high",)}),
    ("back_pay", {"sector": "Schoonmaak"}),
    ("risk", {"rules": ("PAST_DECLARED_END",)}),
)


def _server_cpu_s(session: Session) -> float:
    """CPU seconds the PostgreSQL backend serving this session has used (it runs on this
    machine: /proc); 0 for SQLite, whose work is in this process."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, requests: int) -> dict[str, Any]:
    """Wall time per page (p50/p95/min), and the CPU time per page (this process and the
    database server's backend): on a shared machine the CPU time is the work itself, the
    wall time includes waiting for a core."""
    engine = create_db_engine(url)
    timings: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    with Session(engine) as session:
        for n in range(requests):
            sort, extra = SCENARIOS[n % len(SCENARIOS)]
            flt = case_queue.CaseFilter(**extra)
            cpu_started = time.process_time() + _server_cpu_s(session)
            started = time.perf_counter()
            rows, cursor, _count = case_queue.list_cases(
                session, flt, sort=case_queue.CaseSort(sort), cursor=None, limit=50
            )
            if cursor:  # and the second page
                case_queue.list_cases(
                    session, flt, sort=case_queue.CaseSort(sort), cursor=cursor, limit=50
                )
            elapsed = (time.perf_counter() - started) * 1000 / 2
            used = (time.process_time() + _server_cpu_s(session) - cpu_started) * 1000 / 2
            key = f"{sort} {json.dumps(extra, default=list)}"
            timings.setdefault(key, []).append(elapsed)
            cpu[key] = cpu.get(key, 0.0) + used
            assert rows
    engine.dispose()
    every = [t for ts in timings.values() for t in ts]
    return {
        "p50_ms": round(percentile(every, 50), 2),
        "p95_ms": round(percentile(every, 95), 2),
        "per_scenario_p95_ms": {k: round(percentile(v, 95), 2) for k, v in timings.items()},
        # On a shared machine the fastest and the middle request show the work itself.
        "per_scenario_p50_ms": {k: round(percentile(v, 50), 2) for k, v in timings.items()},
        "per_scenario_min_ms": {k: round(min(v), 2) for k, v in timings.items()},
        "per_scenario_cpu_ms": {k: round(cpu[k] / len(v), 2) for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--flags", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--db-name", help="the database's name (default cases_<cases>)")
    parser.add_argument(
        "--without-flag-rows",
        action="store_true",
        help="the cases and their case_rule rows as for --flags, but no flag rows (the queue "
        "reads none since alembic 0019): a quicker database on a loaded machine",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database a previous run generated (after migrating it to head)",
    )
    args = parser.parse_args()
    generated = 0.0
    name = args.db_name or f"cases_{args.cases}"
    if args.reuse:
        db = existing_database(args.backend, name)
        upgrade(db.url)
        analyze(db.url)
    else:
        db = fresh_database(args.backend, name)
        upgrade(db.url)
        started = time.perf_counter()
        generate(db.url, args.cases, args.flags, flag_rows_too=not args.without_flag_rows)
        generated = time.perf_counter() - started
    result = measure(db.url, args.requests)
    print(json.dumps({"backend": args.backend, "cases": args.cases, "flags": args.flags,
                      "generate_s": round(generated, 1), **result}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
