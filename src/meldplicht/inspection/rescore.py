"""Risk scores recomputed when their inputs change, not each night.

A flag's score (inspection/risk.py) comes from its severity, the workers it affects, the
violations confirmed at its employer and the employer's sector. The sweep and intake compute
it when they write a flag whose content changed; what changes at the employer in between
(a violation confirmed or its confirmation withdrawn by a reopen, a snooze set or lifted) is
applied here, at once, to the employer's flags: those whose condition is present and those
still in the queue. Each recomputed flag gets `risk_computed_at`, and its version
(`updated_at`) moves, so a sweep that read it before writes nothing over it unseen.

The employer's open case follows in `cases.refresh`, which stamps the case's score when it
changed or when one of its flags was recomputed since.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from meldplicht.employers.models import Employer
from meldplicht.flags import risk
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, FlagStatus, Outcome


def confirmed_violations(session: Session, employer_id: uuid.UUID) -> int:
    """The employer's confirmed violations: resolved flags with that outcome (the count the
    sweep and intake use)."""
    return int(
        session.execute(
            sa_select(func.count())
            .select_from(Flag)
            .where(
                col(Flag.employer_id) == employer_id,
                col(Flag.status) == FlagStatus.RESOLVED,
                col(Flag.outcome) == Outcome.VIOLATION_CONFIRMED,
            )
        ).scalar_one()
    )


def rescore_employer(
    session: Session, employer_id: uuid.UUID | None, now: datetime, *, rule_code: str | None = None
) -> int:
    """Recompute the scores of the employer's flags (of one rule, if given) from the inputs
    as they are now; returns how many flags were recomputed. Flushes pending changes first,
    so a resolution just made counts."""
    if employer_id is None:
        return 0
    session.flush()
    employer = session.get(Employer, employer_id)
    sbi_code = employer.sbi_code if employer is not None else None
    confirmed = confirmed_violations(session, employer_id)
    query = sa_select(col(Flag.id), col(Flag.severity), col(Flag.workers_affected)).where(
        col(Flag.employer_id) == employer_id,
        or_(col(Flag.condition_present).is_(True), col(Flag.status).in_(ACTIVE_STATUSES)),
    )
    if rule_code is not None:
        query = query.where(col(Flag.rule_code) == rule_code)
    rows: list[dict[str, Any]] = []
    for flag_id, severity, workers in session.execute(query):
        score, breakdown = risk.score(
            severity=severity,
            workers_affected=workers,
            confirmed_violations=confirmed,
            sbi_code=sbi_code,
        )
        rows.append(
            {
                "id": flag_id,
                "risk_score": score,
                "risk_breakdown": breakdown,
                "risk_computed_at": now,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(update(Flag), rows)
        ids = {row["id"] for row in rows}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Flag) and obj.id in ids:
                session.expire(obj)
    return len(rows)
