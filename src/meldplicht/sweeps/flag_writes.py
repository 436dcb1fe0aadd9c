"""The sweep's flag writes for a batch, set-based: only what differs is written.

`sync_flags_many` (flags.sync) rewrites every present flag each night: its evidence carries
the day, and `last_seen_at`/`last_evaluated_on` are stamped afresh. Here the batch's wanted
flags (from the same findings, the same fingerprints, the same risk score) are compared with
the stored ones, read in one Core SELECT per batch, and only three kinds of row are written,
each kind in one go (on PostgreSQL a COPY into a temporary table, then one UPDATE ... FROM or
INSERT ... SELECT; on SQLite one executemany):

- new flags (an insert, with their `flag.opened` audit entry),
- changed flags: reopened, condition back, or different content (severity, messages,
  evidence, parameters, risk score and its inputs, sector, province, snooze), with
  `flag.reopened` where a cleared flag returns,
- cleared flags (`flag.cleared`).

A flag whose content is unchanged is not written. Its `last_seen_at` and `last_evaluated_on`
then keep the night its content was last written, and the `as_of`/`judged_on` of its evidence
the day that content was established: true statements, no longer "last night". That an open
flag with its condition present still holds is what the latest completed sweep run says
(`GET /api/v1/inspection/sweeps`): every flag in a sweep's scope is judged by it.

Writes are safe against intake and inspectors working at the same time: an update or clear
names the row's `updated_at` as read in its WHERE (the row's version), and a row changed in
between makes the batch fail, so the sweep's per-item retry reports that notification and the
next run judges it again. A new flag whose fingerprint another transaction inserted first
(INSERT ... ON CONFLICT (fingerprint) DO NOTHING) is theirs: no second flag, no failure; the
batch counts it as found, not opened. Nothing is overwritten unseen.

A flag's `risk_computed_at` moves when it is opened, reopened, or its score's inputs differ
(severity, workers, the employer's confirmed violations or sector: the breakdown names them);
a flag written for other content keeps it. What changes at the employer between two nights
is scored at once by `inspection.rescore`.

Audit entries are the same in number and kind as `sync_flags_many` writes (it audits changes
only), and the batch ends in the same `record_sync` (its audit entries, then every present
flag joins its employer's case), so cases and back-pay estimates come out the same.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from meldplicht.audit import service as audit
from meldplicht.core.db import insert_rows_skipping, update_rows_where_seen
from meldplicht.flags import geo
from meldplicht.flags import sync as flag_service
from meldplicht.flags.models import Flag, FlagSource, FlagStatus
from meldplicht.rules.facts import Severity

# Values per IN (...) list: well under SQLite's and PostgreSQL's bind-parameter limits.
IN_CHUNK = 500
# Keys of a finding's evidence that name the day it was judged, not what was found.
DAY_KEYS = frozenset({"as_of", "judged_on"})
# The columns whose values make a flag's content (compared, and written when they differ).
CONTENT = (
    "rule_version",
    "severity",
    "legal_basis",
    "message_nl",
    "message_en",
    "evidence",
    "parameters",
    "risk_score",
    "risk_breakdown",
    "workers_affected",
    "sector",
    "province",
    "snoozed_until",
    "condition_present",
)


class FlagChangedMeanwhile(RuntimeError):
    """A flag the batch read was changed by someone else before the batch wrote it."""


@dataclass(slots=True)
class _Stored:
    id: uuid.UUID
    rule_code: str
    status: str
    cleared_at: datetime | None
    reopened_count: int
    updated_at: datetime
    present: bool  # condition_present
    content: str  # the comparable text of the CONTENT columns
    risk: str  # the comparable text of the score and its breakdown (its inputs)


def _without_days(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_days(v) for k, v in value.items() if k not in DAY_KEYS}
    if isinstance(value, list | tuple):
        return [_without_days(v) for v in value]
    return value


def content_of(values: dict[str, Any]) -> str:
    """A flag's content as comparable text: the same for a stored row and a wanted one."""
    out = {}
    for name in CONTENT:
        value = values.get(name)
        if name == "evidence":
            value = _without_days(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif name == "severity" and value is not None:
            value = str(value)
        out[name] = value
    return json.dumps(out, sort_keys=True, default=str, separators=(",", ":"))


def risk_of(values: dict[str, Any]) -> str:
    """A flag's score and breakdown as comparable text (the breakdown names every input)."""
    return json.dumps(
        [values.get("risk_score"), values.get("risk_breakdown")],
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )


def _stored_flags(
    session: Session, subjects: Sequence[flag_service.Subject], scope: frozenset[str]
) -> dict[tuple[str, str], dict[str, _Stored]]:
    """The subjects' flags of the rules in scope, by subject and fingerprint: one SELECT per
    batch (of up to IN_CHUNK subjects per type), plain rows."""
    found: dict[tuple[str, str], dict[str, _Stored]] = {}
    by_type: dict[str, list[str]] = {}
    for subject in subjects:
        by_type.setdefault(subject.type, []).append(subject.id)
    columns = [col(getattr(Flag, name)) for name in CONTENT]
    for subject_type, ids in by_type.items():
        unique = sorted(set(ids))
        for start in range(0, len(unique), IN_CHUNK):
            rows = session.execute(
                sa_select(
                    col(Flag.subject_id),
                    col(Flag.fingerprint),
                    col(Flag.id),
                    col(Flag.rule_code),
                    col(Flag.status),
                    col(Flag.cleared_at),
                    col(Flag.reopened_count),
                    col(Flag.updated_at),
                    *columns,
                ).where(
                    col(Flag.subject_type) == subject_type,
                    col(Flag.subject_id).in_(unique[start : start + IN_CHUNK]),
                    col(Flag.rule_code).in_(scope),
                )
            )
            for row in rows:
                values = dict(zip(CONTENT, row[8:], strict=True))
                found.setdefault((subject_type, row[0]), {})[row[1]] = _Stored(
                    id=row[2],
                    rule_code=row[3],
                    status=row[4],
                    cleared_at=row[5],
                    reopened_count=row[6],
                    updated_at=row[7],
                    present=bool(values["condition_present"]),
                    content=content_of(values),
                    risk=risk_of(values),
                )
    return found


def _guarded_update(session: Session, rows: list[dict[str, Any]]) -> None:
    """UPDATE flag ... WHERE id = :id AND updated_at = :seen for every row (on PostgreSQL
    from a COPY into a temporary table, one UPDATE ... FROM; on SQLite one executemany);
    every row must match (else someone changed a flag in between: FlagChangedMeanwhile)."""
    if not rows:
        return
    table: Table = Flag.__table__  # type: ignore[attr-defined]
    names = sorted({k for row in rows for k in row} - {"id", "seen"})
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(n for n in names if n in row), []).append(row)
    for keys, group in groups.items():
        matched = update_rows_where_seen(
            session, table, group, keys, key="id", version="updated_at", seen="seen"
        )
        if matched != len(group):
            raise FlagChangedMeanwhile(
                f"{len(group) - matched} of {len(group)} flags changed meanwhile"
            )


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT the new flags ... ON CONFLICT (fingerprint) DO NOTHING (on PostgreSQL from a
    COPY into a temporary table, on SQLite one executemany); returns the fingerprints
    inserted. One missing was inserted by someone else (intake) since the batch read: that
    flag stands, and no second one is made."""
    table: Table = Flag.__table__  # type: ignore[attr-defined]
    inserted = insert_rows_skipping(
        session, table, rows, conflict="fingerprint", returning="fingerprint"
    )
    return {str(fp) for fp in inserted}


def _keep_theirs(
    session: Session,
    counts: flag_service.SyncCounts,
    audit_rows: list[dict[str, Any]],
    new_flags: list[dict[str, Any]],
    inserted: set[str],
) -> None:
    """The new flags another transaction inserted first (the same fingerprint): theirs stand,
    found by this batch as an existing flag would be (refreshed, not opened, no `flag.opened`
    entry of ours), and their ids go on to the case join instead of ours."""
    lost = {
        row["fingerprint"]: row["id"] for row in new_flags if row["fingerprint"] not in inserted
    }
    theirs = dict(
        session.execute(
            sa_select(col(Flag.fingerprint), col(Flag.id)).where(
                col(Flag.fingerprint).in_(sorted(lost))
            )
        ).all()
    )
    ours = {str(flag_id): theirs.get(fp) for fp, flag_id in lost.items()}
    audit_rows[:] = [
        row
        for row in audit_rows
        if not (row["action"] == "flag.opened" and row["subject_id"] in ours)
    ]
    kept: list[uuid.UUID] = []
    for flag_id in counts.flag_ids:
        if str(flag_id) not in ours:
            kept.append(flag_id)
        elif (their_id := ours[str(flag_id)]) is not None:
            kept.append(their_id)
    counts.flag_ids[:] = kept
    counts.opened -= len(lost)
    counts.refreshed += len(lost)


def sync_batch(
    session: Session,
    items: Sequence[flag_service.SyncItem],
    *,
    scope: frozenset[str],
    source: FlagSource,
    as_of: date,
    now: datetime,
) -> tuple[flag_service.SyncCounts, int]:
    """What `sync_flags_many` leaves for these subjects, writing only the differences.
    Returns its counts and how many flag rows were written (inserted or updated)."""
    counts = flag_service.SyncCounts()
    if not items:
        return counts, 0
    actor = flag_service.system_actor(source)
    stored = _stored_flags(session, [item.subject for item in items], scope)

    def anomalous(item: flag_service.SyncItem) -> bool:
        return any(f.code in scope and f.severity != Severity.INFO for f in item.findings)

    flag_service.prefetch_employer_facts(
        session, {item.subject.employer_id for item in items if anomalous(item)}, as_of
    )
    new_flags: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    changed_employers: set[uuid.UUID | None] = set()
    for item in items:
        subject = item.subject
        known = stored.get((subject.type, subject.id), {})
        seen: set[str] = set()
        if anomalous(item):
            changed_employers.add(subject.employer_id)
            employer = flag_service._employer_facts(session, subject.employer_id, as_of)
            province = geo.province_for_postcode(subject.postcode)
        for finding in item.findings:
            if finding.code not in scope or finding.severity == Severity.INFO:
                continue
            fp = flag_service.fingerprint(
                finding.code, subject.type, subject.id, finding.period_key
            )
            if fp in seen:
                continue
            seen.add(fp)
            values = flag_service.flag_content(finding, subject, employer, province)
            flag = known.get(fp)
            if flag is None:
                flag_id = uuid.uuid4()
                values.update(
                    {
                        "id": flag_id,
                        "fingerprint": fp,
                        "rule_code": finding.code,
                        "subject_type": subject.type,
                        "subject_id": subject.id,
                        "period_key": finding.period_key,
                        "employer_id": subject.employer_id,
                        "notification_id": subject.notification_id,
                        "person_hash": subject.person_hash,
                        "status": FlagStatus.OPEN,
                        "source": source,
                        "first_seen_at": now,
                        "last_seen_at": now,
                        "last_evaluated_on": as_of,
                        "updated_at": now,
                        "reopened_count": 0,
                        "risk_computed_at": now,
                    }
                )
                new_flags.append(values)
                counts.opened += 1
                counts.flag_ids.append(flag_id)
                audit_rows.append(
                    audit.entry(
                        actor,
                        "flag.opened",
                        "flag",
                        flag_id,
                        {"rule": finding.code, "source": source},
                    )
                )
                continue
            counts.refreshed += 1
            counts.flag_ids.append(flag.id)
            reopen = flag.status == FlagStatus.CLEARED
            if not reopen and content_of(values) == flag.content:
                continue  # unchanged: not written
            if reopen:
                counts.reopened += 1
                audit_rows.append(
                    audit.entry(
                        actor,
                        "flag.reopened",
                        "flag",
                        flag.id,
                        {"rule": finding.code, "source": source},
                    )
                )
            if reopen or risk_of(values) != flag.risk:
                values["risk_computed_at"] = now  # an input of the score changed
            values.update(
                {
                    "id": flag.id,
                    "seen": flag.updated_at,
                    "status": FlagStatus.OPEN if reopen else flag.status,
                    "cleared_at": None if reopen else flag.cleared_at,
                    "reopened_count": flag.reopened_count + (1 if reopen else 0),
                    "last_seen_at": now,
                    "last_evaluated_on": as_of,
                    "updated_at": now,
                }
            )
            changes.append(values)
        for fp, flag in known.items():
            if fp in seen or not flag.present:
                continue
            gone = flag_service.condition_gone(
                flag.id, flag.status, flag.cleared_at, flag.rule_code, counts, audit_rows,
                actor=actor, source=source, as_of=as_of, now=now,
            )  # fmt: skip
            changes.append(gone | {"seen": flag.updated_at})
            changed_employers.add(subject.employer_id)
    if changes:
        session.flush()
        _guarded_update(session, changes)
        flag_service._expire_flags(session, {row["id"] for row in changes})
    inserted = _insert_new(session, new_flags)
    if len(inserted) != len(new_flags):
        _keep_theirs(session, counts, audit_rows, new_flags, inserted)
    flag_service.record_sync(
        session,
        audit_rows,
        flag_ids=counts.flag_ids,
        employer_ids=changed_employers,
        actor=actor,
        as_of=as_of,
        now=now,
    )
    return counts, len(inserted) + len(changes)


def sync_each_on_failure(
    session: Session,
    items: Sequence[flag_service.SyncItem],
    *,
    scope: frozenset[str],
    source: FlagSource,
    as_of: date,
    now: datetime,
) -> tuple[flag_service.SyncCounts, int, list[tuple[flag_service.SyncItem, Exception]]]:
    """`sync_batch` in one savepoint; if the batch fails, item by item, so a failure is that
    item's alone. Returns the counts, the rows written and the items that failed."""
    try:
        with session.begin_nested():
            counts, written = sync_batch(
                session, items, scope=scope, source=source, as_of=as_of, now=now
            )
            return counts, written, []
    except Exception:  # noqa: S110 - retried item by item below, where each failure is reported
        pass
    counts = flag_service.SyncCounts()
    written = 0
    failed: list[tuple[flag_service.SyncItem, Exception]] = []
    for item in items:
        try:
            with session.begin_nested():
                one, rows = sync_batch(
                    session, [item], scope=scope, source=source, as_of=as_of, now=now
                )
        except Exception as exc:
            failed.append((item, exc))
            continue
        counts.add(one)
        written += rows
    return counts, written, failed
