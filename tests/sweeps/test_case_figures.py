"""A sweep recomputes each case's figures once, at its end, and leaves none stale.

During the sweep flags join their cases at once, but a case's aggregates and its workers'
back-pay estimates are left due and recomputed after the last phase (an employer's flags
arrive over many batches). These tests hold the result to what recomputing every case
afresh gives, to a back-pay figure worked by hand from the published minimum, and show that a
run killed before its end leaves the due cases to the next run.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from meldplicht.core.db import create_db_engine
from meldplicht.inspection import cases
from meldplicht.inspection.models import Case, CaseFiguresDue, CaseWorker, CaseWorkerDue
from meldplicht.sweeps.sweep import SweepMode, SweepStatus, run_sweep
from tests.sweeps.conftest import (
    SweepDb,
    add_employer,
    body_for,
    clone_database,
    drop_database,
    notify,
)

AS_OF = date(2024, 7, 14)


def plant(db: SweepDb) -> dict[str, uuid.UUID]:
    """Three employers; the first underpays two workers from 1 July 2024, when the adult
    minimum rose from EUR 13.27 to EUR 13.68 an hour (EUR 13.50 was enough before)."""
    ids: dict[str, uuid.UUID] = {}
    with db.session() as session, session.begin():
        for kvk in ("12345678", "23456781", "34567812"):
            ids[kvk] = add_employer(session, kvk, f"Bedrijf {kvk} B.V.").id
    bsns = iter(["111222333", "123456782", "100000009", "100000010", "100000022"])
    for kvk, wage in (("12345678", "13.50"), ("12345678", "13.50"), ("23456781", "13.60")):
        notify(
            db,
            ids[kvk],
            body_for(start=date(2024, 6, 10), wage=wage, end=date(2025, 12, 31), bsn=next(bsns)),
            received=date(2024, 5, 27),
        )
    notify(
        db,
        ids["34567812"],
        body_for(start=date(2024, 6, 10), wage="15.00", bsn=next(bsns)),
        received=date(2024, 5, 27),
    )
    return ids


def figures(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        found = {
            str(c.employer_id): (
                c.status,
                c.risk_score,
                c.active_flags,
                c.flags_high,
                c.flags_medium,
                c.flags_low,
                tuple(c.rules),
                c.workers_affected,
                c.back_pay,
                c.condition_since,
                c.due_on,
            )
            for c in session.exec(select(Case))
        }
        workers = {
            str(w.notification_id): (w.back_pay, w.calculation, w.computed_on)
            for w in session.exec(select(CaseWorker))
        }
    return {"cases": found, "workers": workers}


def due(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(CaseFiguresDue)).one(),
            session.exec(select(func.count()).select_from(CaseWorkerDue)).one(),
        )


def recompute_all(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        for case in session.exec(select(Case)).all():
            cases.recompute_case(session, case, AS_OF)


def sweep(db: SweepDb, **kw: Any) -> Any:
    return run_sweep(
        db.engine, AS_OF, mode=SweepMode.FULL, settings=db.settings, batch_size=1, **kw
    )


def test_each_case_is_recomputed_once_at_the_end_to_the_figures_worked_afresh(
    sweep_db: SweepDb,
) -> None:
    ids = plant(sweep_db)
    run = sweep(sweep_db)
    assert run.status == SweepStatus.SUCCEEDED, run.errors
    assert due(sweep_db.engine) == (0, 0)
    assert run.counts["cases_recomputed"] >= 2
    after_sweep = figures(sweep_db.engine)
    # Two workers of 38 hours a week, EUR 0.18 an hour short for the 14 days (2 weeks) from
    # 1 July to 14 July 2024: 0.18 x 38 x 2 = 13.68 each, plus 8% holiday allowance 1.0944:
    # EUR 14.77 each (rounded once per worker), EUR 29.54 for the case. The third worker,
    # EUR 0.08 short: 0.08 x 38 x 2 = 6.08, plus 0.4864: EUR 6.57. The fourth is paid enough.
    assert after_sweep["cases"][str(ids["12345678"])][-3] == Decimal("29.54")
    assert after_sweep["cases"][str(ids["23456781"])][-3] == Decimal("6.57")
    assert sorted(w[0] for w in after_sweep["workers"].values()) == [
        Decimal("6.57"),
        Decimal("14.77"),
        Decimal("14.77"),
    ]
    recompute_all(sweep_db.engine)
    assert figures(sweep_db.engine) == after_sweep


def test_a_run_killed_before_its_end_leaves_the_due_cases_to_the_next(
    sweep_db: SweepDb, tmp_path: Any
) -> None:
    plant(sweep_db)
    sweep_db.engine.dispose()  # (a PostgreSQL template has no one connected)
    whole_url = clone_database(sweep_db.url, tmp_path)
    whole = create_db_engine(whole_url)
    try:
        run = run_sweep(whole, AS_OF, mode=SweepMode.FULL, settings=sweep_db.settings, batch_size=1)
        assert run.status == SweepStatus.SUCCEEDED, run.errors
        expected = figures(whole)
    finally:
        whole.dispose()
        drop_database(whole_url)

    class Killed(BaseException):
        pass

    def kill(phase: str) -> None:
        if phase == "payroll":
            raise Killed

    with pytest.raises(Killed):
        sweep(sweep_db, after_batch=kill)
    assert due(sweep_db.engine)[0] > 0  # the figures were left due, and stored
    rerun = sweep(sweep_db)
    assert rerun.status == SweepStatus.SUCCEEDED, rerun.errors
    assert due(sweep_db.engine) == (0, 0)
    assert figures(sweep_db.engine) == expected
