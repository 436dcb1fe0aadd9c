"""`meldplicht import-payroll`: a file on disk, batch commits, a per-row report, safe re-runs."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.payroll.cli import run_payroll_import
from meldplicht.payroll.models import PayrollRecord
from tests.payroll.helpers import as_csv, as_ndjson, month, row


def test_cli_import_commits_in_batches_and_reruns_safely(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    settings = Settings(environment=Environment.TEST, database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = create_db_engine(url)
    rows = []
    for m in range(1, 13):
        first, last = month(2024, m)
        rows.append(row("111222333", first, last, "160", "2400.00"))
    rows.append(row("111222333", *month(2024, 1), "160", "-5"))
    data = tmp_path / "payroll.csv"
    data.write_bytes(as_csv(rows))
    report = tmp_path / "report.csv"
    summary = run_payroll_import(
        data, fmt="csv", report_path=report, batch_size=5, settings=settings, engine=engine
    )
    assert (summary["imported"], summary["rejected"], summary["total"]) == (12, 1, 13)
    lines = list(csv.reader(report.open()))
    assert lines[0] == ["line", "reference", "status", "errors"]
    assert lines[-1][2] == "rejected"
    assert "gross_wage" in lines[-1][3]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(PayrollRecord)).one() == 12
    jsonl = tmp_path / "payroll.jsonl"
    jsonl.write_bytes(as_ndjson(rows[:12]))
    again = run_payroll_import(jsonl, fmt="ndjson", batch_size=5, settings=settings, engine=engine)
    assert (again["imported"], again["already_present"]) == (0, 12)
    engine.dispose()
