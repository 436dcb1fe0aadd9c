"""What the cross-notification phases (persons, employers) share: their candidates in SQL,
the batches of keys to judge, and judging and syncing one batch."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Select, union
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.flags.models import Flag, SubjectType
from meldplicht.flags.sync import Subject, SyncItem
from meldplicht.rules.facts import Finding
from meldplicht.sweeps.state import RunState

log = logging.getLogger("meldplicht.sweeps")

# Flag.period_key holds 40 characters; longer keys (the total-hours check joins notification
# ids) are replaced by a digest so the flag fits on PostgreSQL too.
PERIOD_KEY_MAX = 40

Verdict = Callable[[], tuple[Subject, list[Finding]]]


def fit_period_key(finding: Finding) -> Finding:
    if len(finding.period_key) <= PERIOD_KEY_MAX:
        return finding
    digest = hashlib.sha256(finding.period_key.encode()).hexdigest()
    return replace(finding, period_key="h:" + digest[: PERIOD_KEY_MAX - 2])


def candidates(
    several: Select[Any],
    several_key: Any,
    subject_type: SubjectType,
    scope: frozenset[str],
    keys: list[Any] | None,
) -> Any:
    """A cross phase's candidates as a subquery with a `key` column: those `several` selects
    (enough notices to be judged) and those with a present flag of the phase's rules; limited
    to `keys` unless None. A person's flag is keyed by subject id (the BSN hash), an
    employer's by its employer id."""
    flag_key = col(Flag.subject_id) if subject_type is SubjectType.PERSON else col(Flag.employer_id)
    flagged: Select[Any] = select(flag_key.label("key")).where(
        col(Flag.subject_type) == subject_type,
        col(Flag.rule_code).in_(scope),
        col(Flag.condition_present).is_(True),
    )
    if keys is not None:
        several = several.where(several_key.in_(keys))
        flagged = flagged.where(flag_key.in_(keys))
    return union(several, flagged).subquery()


def batches(
    state: RunState, candidates: Callable[[list[Any] | None], Any], dirty: set[Any]
) -> Iterator[list[Any]]:
    """Batches of keys to judge: the candidates the SQL pre-selects (`candidates(keys)`
    is a subquery with a `key` column, limited to `keys` unless None): in full mode all of
    them (keyset over the key), in incremental mode the dirty ones among them (a key that
    is no candidate has no findings and no present flag, so judging it changes nothing)."""
    if state.cross_incremental:
        for chunk in state.chunks(dirty):
            subquery = candidates(chunk)
            with Session(state.engine) as session:
                keys = sorted(
                    session.exec(select(subquery.c.key).where(subquery.c.key.is_not(None))).all()
                )
            if keys:
                yield keys
        return
    everyone = candidates(None)
    last: Any = None
    while True:
        with Session(state.engine) as session:
            query = select(everyone.c.key).where(everyone.c.key.is_not(None))
            if last is not None:
                query = query.where(everyone.c.key > last)
            keys = list(session.exec(query.order_by(everyone.c.key).limit(state.batch_size)))
        if not keys:
            return
        yield keys
        last = keys[-1]


def sync_cross(
    state: RunState,
    session: Session,
    kind: str,
    verdicts: Sequence[tuple[object, Verdict]],
    scope: frozenset[str],
) -> int:
    """Judge a batch of persons or employers and sync their flags; a failure is that
    item's alone. Returns how many were judged."""
    items: list[SyncItem] = []
    for ident, verdict in verdicts:
        try:
            subject, findings = verdict()
        except Exception as exc:
            log.error("sweep: %s %s failed", kind, ident, exc_info=exc)
            state.record_error(kind, ident, exc)
            continue
        items.append(SyncItem(subject, [fit_period_key(f) for f in findings]))
    failed = state.sync_batch(session, kind, items, scope, utcnow())
    return len(items) - len(failed)
