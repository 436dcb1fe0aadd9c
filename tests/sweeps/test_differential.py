"""The new sweep against the reference one (tests/sweeps/reference_sweep.py), on generated data.

The world of test_incremental (a few hundred notifications, youth bands and birthdays, wages
around the minimum, documents, several employers, payroll deliveries) is made once and cloned
(same ids). On a sequence of nightly days crossing 1 July 2026 (an indexation), 21st
birthdays, document expiries and a payroll arrival, the same change notices are filed in both
copies; the reference sweeps one, the new sweep the other, and they must leave the same flags
(rule, subject, period, severity, state, risk, messages and evidence), notification states and
next_check_dates, audit entries per action and cases. The new sweep is also killed mid-run
through its injected after-batch hook and rerun (it must end where the reference does), and a
second run for the same day must change nothing.

Evidence keeps the day it was established: the new sweep leaves an unchanged flag as it was,
so `as_of` and `judged_on` in its evidence are the day of the last change rather than the
latest night (the latest completed sweep run says when it was last confirmed). Those two keys
are left out of the comparison; everything else in the evidence must be equal.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.db import create_db_engine
from meldplicht.flags.models import Flag
from meldplicht.inspection.models import Case
from meldplicht.notifications.models import Notification
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.sweep import SweepStatus, run_sweep
from tests.sweeps import reference_sweep
from tests.sweeps.conftest import SweepDb, clone_database, drop_database, settings_for
from tests.sweeps.test_incremental import (
    apply,
    deliver_payroll,
    generate,
    mutations,
    payroll_rows,
    same_record_ids,
)

pytestmark = pytest.mark.slow

BATCH = 60
PAYROLL_ARRIVES_BEFORE = date(2026, 3, 2)
DAYS = [
    date(2024, 6, 29),
    date(2024, 7, 1),
    date(2025, 1, 1),
    date(2025, 7, 1),
    date(2026, 3, 2),  # after the second payroll delivery
    date(2026, 6, 30),
    date(2026, 7, 1),  # indexation
    date(2026, 7, 2),  # an ordinary night
]
# Kill the new sweep on these days after this many batches of that phase, then rerun it.
KILLS = {date(2026, 3, 2): ("payroll", 1), date(2026, 7, 1): ("notifications", 2)}
# The day a finding was judged on: an unchanged flag keeps the day it was last written.
VOLATILE_EVIDENCE = frozenset({"as_of", "judged_on"})


class Killed(BaseException):
    """Stands for the process dying between two batches (not an Exception: nothing catches it)."""


def killer(phase: str, after: int) -> Callable[[str], None]:
    seen = Counter[str]()

    def hook(done: str) -> None:
        seen[done] += 1
        if done == phase and seen[done] >= after:
            raise Killed(f"killed after {after} {phase} batches")

    return hook


def stable(evidence: Any) -> Any:
    if isinstance(evidence, dict):
        return {k: stable(v) for k, v in evidence.items() if k not in VOLATILE_EVIDENCE}
    if isinstance(evidence, list):
        return [stable(v) for v in evidence]
    return evidence


def snapshot(engine: Engine, *, same_batches: bool = True) -> dict[str, Any]:
    """Everything both sweeps must leave alike (no ids drawn at random, no wall-clock times).

    A case's "flags joined" entry is written per batch and employer, so a run killed and
    rerun (other batch boundaries) writes a different number of them for the same flags:
    with `same_batches=False` the flags they joined are counted instead of the entries."""
    with Session(engine) as session:
        cases = {c.id: (str(c.employer_id), c.status) for c in session.exec(select(Case))}
        flag_state = {
            f.fingerprint: (
                f.rule_code,
                f.subject_type,
                f.subject_id,
                f.period_key,
                f.severity,
                f.status,
                f.condition_present,
                f.risk_score,
                f.risk_breakdown,
                f.workers_affected,
                f.sector,
                f.province,
                f.snoozed_until,
                f.reopened_count,
                f.rule_version,
                f.legal_basis,
                f.message_nl,
                f.message_en,
                stable(f.evidence),
                f.parameters,
                cases.get(f.case_id) if f.case_id is not None else None,
            )
            for f in session.exec(select(Flag))
        }
        notifications = {
            str(n.id): (n.status, n.next_check_date) for n in session.exec(select(Notification))
        }
        events = list(session.exec(select(AuditEvent)))
        audit = Counter(a.action for a in events)
        audit["flags joined to cases"] = sum(
            int(a.details.get("flags", 0)) for a in events if a.action == "case.flags_joined"
        )
        if not same_batches:
            del audit["case.flags_joined"]
        case_counts = Counter(cases.values())
    return {
        "flags": flag_state,
        "notifications": notifications,
        "audit": dict(audit),
        "cases": dict(case_counts),
    }


def diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    """A readable account of the first differences (for the assertion message)."""
    lines = []
    for part in a:
        if a[part] == b[part]:
            continue
        if isinstance(a[part], dict):
            keys = sorted(set(a[part]) | set(b[part]), key=str)
            bad = [k for k in keys if a[part].get(k) != b[part].get(k)]
            lines.append(f"{part}: {len(bad)} differ")
            for k in bad[:3]:
                lines.append(f"  {k}: reference {a[part].get(k)!r}\n        new {b[part].get(k)!r}")
        else:
            lines.append(f"{part}: {a[part]!r} != {b[part]!r}")
    return "\n".join(lines)


def updated_at(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return {f.fingerprint: f.updated_at for f in session.exec(select(Flag))}


def run_counts(engine: Engine) -> list[tuple[Any, ...]]:
    keys = ("selected", "evaluated", "opened", "cleared", "reopened", "errors")
    with Session(engine) as session:
        runs = session.exec(select(SweepRun).order_by(SweepRun.started_at)).all()
        return [
            (r.as_of, r.mode, *(r.counts.get(k) for k in keys))
            for r in runs
            if r.status == SweepStatus.SUCCEEDED
        ]


def test_new_sweep_leaves_what_the_reference_leaves(sweep_db: SweepDb, tmp_path: Path) -> None:
    rng = random.Random(20260701)
    world = generate(sweep_db, rng)
    assert len(world.ids) > 200
    # The days cross what moves a verdict: 21st birthdays and document expiries among them.
    span = (DAYS[0], DAYS[-1])
    assert any(
        span[0] < birth.replace(year=birth.year + 21) <= span[1] for _, birth, _, _ in world.people
    )
    assert any(doc and span[0] < doc <= span[1] for _, _, _, doc in world.people)
    sweep_db.engine.dispose()
    ref_url = clone_database(sweep_db.url, tmp_path)
    ref = SweepDb(ref_url, create_db_engine(ref_url), settings_for(ref_url), sweep_db.backend)
    new = sweep_db
    try:
        assert snapshot(ref.engine) == snapshot(new.engine)
        previous = DAYS[0] - timedelta(days=1)
        killed = False
        for day in DAYS:
            for mutation in mutations(rng, world.ids, previous, day):
                apply(ref, mutation)
                apply(new, mutation)
            if day == PAYROLL_ARRIVES_BEFORE:
                rows = payroll_rows(rng, world.people, world.lhns, 2025, range(7, 13))
                deliver_payroll(ref, rows, day - timedelta(days=3))
                deliver_payroll(new, rows, day - timedelta(days=3))
                same_record_ids(ref, new)
            old_run = reference_sweep.run_sweep(
                ref.engine, day, settings=ref.settings, batch_size=BATCH
            )
            assert old_run.status == SweepStatus.SUCCEEDED, old_run.errors
            if day in KILLS:
                phase, after = KILLS[day]
                with pytest.raises(Killed):
                    run_sweep(
                        new.engine,
                        day,
                        settings=new.settings,
                        batch_size=BATCH,
                        after_batch=killer(phase, after),
                    )
                with new.session() as session:
                    last = session.exec(
                        select(SweepRun).order_by(col(SweepRun.started_at).desc())
                    ).first()
                    assert last is not None
                    assert last.status == SweepStatus.INTERRUPTED
            new_run = run_sweep(new.engine, day, settings=new.settings, batch_size=BATCH)
            assert new_run.status == SweepStatus.SUCCEEDED, new_run.errors
            assert new_run.counts["errors"] == old_run.counts["errors"] == 0
            killed = killed or day in KILLS
            alike = not killed
            expected = snapshot(ref.engine, same_batches=alike)
            got = snapshot(new.engine, same_batches=alike)
            assert expected == got, f"{day}:\n{diff(expected, got)}"
            if day not in KILLS:
                assert run_counts(ref.engine)[-1] == run_counts(new.engine)[-1], day
            if day == DAYS[-1]:  # an ordinary night: most flags found are left as they were
                assert new_run.counts["refreshed"] > 0
                assert new_run.counts.get("flags_written", 0) < new_run.counts["refreshed"] / 2
            previous = day
        # What the days produced: the rules this comparison is about did fire.
        rules = {v[0] for v in snapshot(new.engine)["flags"].values()}
        assert {"BELOW_MINIMUM_WAGE", "DOCUMENT_EXPIRED", "PAID_BELOW_MINIMUM_WAGE"} <= rules
        # A second run for the same day changes nothing.
        before = snapshot(new.engine, same_batches=False)
        stamps = updated_at(new.engine)
        again = run_sweep(new.engine, DAYS[-1], settings=new.settings, batch_size=BATCH)
        assert again.status == SweepStatus.SUCCEEDED
        assert (again.counts["opened"], again.counts["cleared"], again.counts["reopened"]) == (
            0,
            0,
            0,
        )
        assert snapshot(new.engine, same_batches=False) == before
        # ... and writes no flag: an unchanged flag is not rewritten (the reference rewrote
        # every present flag each night), in no phase: payroll reconciliation too.
        assert again.counts.get("flags_written", 0) == 0
        moved = {fp for fp, stamp in updated_at(new.engine).items() if stamps.get(fp) != stamp}
        assert not moved, f"{len(moved)} flags' updated_at moved on a second run for the day"
        assert len(stamps) > 0
    finally:
        ref.engine.dispose()
        drop_database(ref_url)
