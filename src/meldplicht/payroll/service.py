"""Importing payroll deliveries: streamed, validated row by row, idempotent, in batches.

The same code serves the upload (`POST /api/v1/payroll/imports`) and the command line
(`meldplicht import-payroll`). Rows are read one at a time and written a batch at a time; after
each batch `on_batch` runs: the command line commits there (so a million rows never sit in
one transaction), the upload only flushes (its request owns the transaction). A record's key
is (loonheffingennummer, BSN hash, period start, period end): a row delivered again with the
same figures is `already_present`, with other figures `updated` (a payroll correction).
"""

from __future__ import annotations

import csv
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from meldplicht.core.clock import utcnow
from meldplicht.core.crypto import PersonalDataCipher
from meldplicht.core.db import insert_plain_rows
from meldplicht.core.errors import FieldError
from meldplicht.employers.models import Employer
from meldplicht.payroll.models import PayrollImport, PayrollRecord
from meldplicht.payroll.schemas import RawRow, RowReport, ValidRow, validate

BATCH_SIZE = 1000
MAX_REPORTED_REJECTIONS = 1000

IMPORTED = "imported"
UPDATED = "updated"
ALREADY_PRESENT = "already_present"
REJECTED = "rejected"

Key = tuple[str, str, date, date]
# The figures of a record that a later delivery may correct.
_FIGURES = (
    "hours_paid",
    "gross_wage",
    "includes_holiday_allowance",
    "birth_date",
    "nationality",
    "document_type",
    "source_reference",
    "paid_in_cash",
)
_TABLE: Table = PayrollRecord.__table__  # type: ignore[attr-defined]
# Every column of a new record, in the order the insert sends them.
_COLUMNS = tuple(c.name for c in _TABLE.columns)
# What the look-up of a batch's stored records reads: the key, the id, the figures.
_LOOKUP = tuple(
    _TABLE.c[name]
    for name in ("id", "employer_lhn", "bsn_hash", "period_start", "period_end", *_FIGURES)
)
_LOOKUP_NAMES = tuple(column.name for column in _LOOKUP)
# A correction: the figures, the delivery that brought them, by primary key (one executemany).
_CORRECT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("record_id"))
    .values({name: bindparam(name) for name in (*_FIGURES, "import_id", "updated_at")})
)


@dataclass(slots=True)
class ImportResult:
    import_id: uuid.UUID
    counts: dict[str, int] = field(
        default_factory=lambda: {IMPORTED: 0, UPDATED: 0, ALREADY_PRESENT: 0, REJECTED: 0}
    )
    rejected_rows: list[RowReport] = field(default_factory=list)
    truncated: bool = False
    seconds: float = 0.0
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> dict[str, Any]:
        return {
            "import_id": str(self.import_id),
            "total": self.total,
            **self.counts,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.total / self.seconds, 1) if self.seconds > 0 else None,
            **({"error": self.error} if self.error else {}),
        }


class _Employers:
    """Loonheffingennummer -> employer id, asked once per number per import."""

    def __init__(self) -> None:
        self._ids: dict[str, uuid.UUID | None] = {}

    def resolve(self, session: Session, numbers: set[str]) -> None:
        missing = [n for n in numbers if n not in self._ids]
        if not missing:
            return
        found: dict[str, uuid.UUID] = {}
        for lhn, employer_id in session.execute(
            select(col(Employer.loonheffingennummer), col(Employer.id))
            .where(_among(session, Employer.__table__.c.loonheffingennummer, missing))  # type: ignore[attr-defined]
            .order_by(col(Employer.created_at))
        ):
            if lhn is not None:
                found.setdefault(lhn, employer_id)
        for number in missing:
            self._ids[number] = found.get(number)

    def get(self, number: str) -> uuid.UUID | None:
        return self._ids.get(number)


def _record_id() -> uuid.UUID:
    """A random UUID that starts with the time (the layout of UUIDv7: 48 bits of milliseconds,
    74 random bits). A batch's ids land side by side in the primary-key index instead of on a
    thousand random pages, which on SQLite is what each commit has to write."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10)) & _RANDOM_74
    return uuid.UUID(int=value | _VERSION_7)


_RANDOM_74 = (1 << 62) - 1 | ((1 << 12) - 1) << 64
_VERSION_7 = 0x7 << 76 | 0b10 << 62


def _among(session: Session, column: ColumnElement[Any], values: list[str]) -> ColumnElement[bool]:
    """`column IN (...)` with the values as one parameter (an array on PostgreSQL, a JSON list
    on SQLite): the statement does not grow, nor is it parsed again, per value."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String)))
    listed = func.json_each(bindparam("values", json.dumps(values)))
    return column.in_(select(literal_column("value")).select_from(listed).scalar_subquery())


def _existing_among(session: Session, keys: list[Key]) -> Select[Any]:
    """The stored records with exactly these keys (at most one each): the batch's keys go as
    one parameter per column (arrays on PostgreSQL, one JSON list on SQLite) and are matched
    through the unique key's index. The statement does not grow, nor is it parsed again, per
    key; and what it returns is bounded by the batch, never by the workers' history (all of
    a worker's records, of every period and employer, would be: at national size a batch of
    10,000 workers can have 100,000 of them)."""
    table = _TABLE
    if session.get_bind().dialect.name == "postgresql":
        lhns, hashes, starts, ends = (list(column) for column in zip(*keys, strict=True))
        wanted = (
            func.unnest(
                bindparam("lhns", lhns, type_=ARRAY(String)),
                bindparam("hashes", hashes, type_=ARRAY(String)),
                bindparam("starts", starts, type_=ARRAY(Date)),
                bindparam("ends", ends, type_=ARRAY(Date)),
            )
            .table_valued("lhn", "hash", "start", "end")
            .render_derived(name="wanted")
        )
        match: list[ColumnElement[Any]] = [
            wanted.c.lhn,
            wanted.c.hash,
            wanted.c.start,
            wanted.c.end,
        ]
    else:
        # Dates are stored as ISO text on SQLite, as the JSON list carries them.
        listed = json.dumps(
            [[lhn, h, start.isoformat(), end.isoformat()] for lhn, h, start, end in keys]
        )
        wanted = func.json_each(bindparam("keys", listed)).table_valued("value", name="wanted")
        match = [func.json_extract(wanted.c.value, f"$[{i}]") for i in range(4)]
    on = and_(
        *(
            column == value
            for column, value in zip(
                (table.c.employer_lhn, table.c.bsn_hash, table.c.period_start, table.c.period_end),
                match,
                strict=True,
            )
        )
    )
    return select(*_LOOKUP).select_from(wanted).join(table, on)


def _figures(row: ValidRow) -> dict[str, Any]:
    return {
        "hours_paid": row.hours_paid,
        "gross_wage": row.gross_wage,
        "includes_holiday_allowance": row.includes_holiday_allowance,
        "birth_date": row.birth_date,
        "nationality": row.nationality,
        "document_type": row.document_type,
        "source_reference": row.reference,
        "paid_in_cash": row.paid_in_cash,
    }


def _same(record: dict[str, Any], figures: dict[str, Any]) -> bool:
    return all(record[name] == figures[name] for name in _FIGURES)


class PayrollImporter:
    """One delivery, fed row by row; `finish` writes the last batch and the import's counts."""

    def __init__(
        self,
        session: Session,
        *,
        cipher: PersonalDataCipher,
        today: date,
        actor_id: str,
        source: str,
        filename: str | None = None,
        batch_size: int = BATCH_SIZE,
        on_batch: Callable[[Session], None] | None = None,
        on_row: Callable[[RowReport], None] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.cipher = cipher
        self.today = today
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.on_row = on_row
        self.now = now or utcnow()
        self._started = time.perf_counter()
        self._employers = _Employers()
        self._pending: list[tuple[int, ValidRow, str]] = []
        self._refused: list[RowReport] = []
        run = PayrollImport(
            source=source, actor_id=actor_id, filename=filename, started_at=self.now
        )
        session.add(run)
        session.flush()
        self.result = ImportResult(import_id=run.id)

    # --- feeding -----------------------------------------------------------------------------

    def add(self, raw: RawRow) -> None:
        row, errors = validate(raw, self.today)
        if row is None:
            self._refused.append(
                RowReport(line=raw.line, reference=raw.reference, status=REJECTED, errors=errors)
            )
        else:
            # The line is all that is kept of the raw row: a batch holds no more than it needs.
            self._pending.append((raw.line, row, self.cipher.keyed_hash(row.bsn)))
        if len(self._pending) + len(self._refused) >= self.batch_size:
            self.flush()

    def add_all(self, rows: Iterable[RawRow]) -> None:
        for raw in rows:
            self.add(raw)

    def flush(self) -> None:
        """Write the pending rows (one statement for the new ones) and hand over the batch."""
        outcomes: list[RowReport] = []
        if self._pending:
            try:
                with self.session.begin_nested():
                    outcomes = self._write(self._pending)
            except IntegrityError:
                # Another delivery inserted one of these keys meanwhile: it is visible now,
                # so the batch is written again as updates.
                with self.session.begin_nested():
                    outcomes = self._write(self._pending)
            self._pending.clear()
        # The report follows the delivery's order, refused rows included.
        for report in sorted([*outcomes, *self._refused], key=lambda r: r.line):
            self._report(report)
        self._refused.clear()
        if self.on_batch is not None:
            self.on_batch(self.session)

    def finish(self, error: str | None = None) -> ImportResult:
        self.flush()
        self.result.seconds = time.perf_counter() - self._started
        self.result.error = error
        counts: dict[str, Any] = dict(self.result.counts)
        if error:
            counts["error"] = error
        self.session.execute(
            update(PayrollImport)
            .where(col(PayrollImport.id) == self.result.import_id)
            .values(finished_at=utcnow(), counts=counts)
        )
        if self.on_batch is not None:
            self.on_batch(self.session)
        return self.result

    # --- writing -----------------------------------------------------------------------------

    def _report(self, report: RowReport) -> None:
        self.result.counts[report.status] += 1
        if report.status == REJECTED:
            if len(self.result.rejected_rows) < MAX_REPORTED_REJECTIONS:
                self.result.rejected_rows.append(report)
            else:
                self.result.truncated = True
        if self.on_row is not None:
            self.on_row(report)

    def _write(self, pending: list[tuple[int, ValidRow, str]]) -> list[RowReport]:
        session = self.session
        self._employers.resolve(session, {row.loonheffingennummer for _, row, _ in pending})
        # In key order, the look-up walks the unique index from one end to the other and
        # leaves in the page cache the pages the inserts below then write to.
        wanted = sorted(
            {
                (row.loonheffingennummer, h, row.period_start, row.period_end)
                for _, row, h in pending
            }
        )
        existing: dict[Key, dict[str, Any]] = {}
        for found in session.execute(_existing_among(session, wanted)):
            record = dict(zip(_LOOKUP_NAMES, found, strict=True))
            key = (
                record["employer_lhn"],
                record["bsn_hash"],
                record["period_start"],
                record["period_end"],
            )
            existing[key] = record
        inserts: dict[Key, dict[str, Any]] = {}
        updates: dict[Key, dict[str, Any]] = {}
        reports: list[RowReport] = []
        # A delivery repeats a worker's BSN once per period: encrypt it once per batch.
        encrypted: dict[str, str] = {}
        employer_of = self._employers.get
        import_id = self.result.import_id
        for line, row, bsn_hash in pending:
            key = (row.loonheffingennummer, bsn_hash, row.period_start, row.period_end)
            figures = _figures(row)
            status = IMPORTED
            if key in inserts:
                # The same key twice in one delivery: the later row wins, as a correction.
                status = ALREADY_PRESENT if _same(inserts[key], figures) else UPDATED
                inserts[key].update(figures)
            elif key in existing:
                status = ALREADY_PRESENT if _same(existing[key], figures) else UPDATED
                if status == UPDATED:
                    existing[key].update(figures)
                    updates[key] = {"record_id": existing[key]["id"], **figures}
            else:
                token = encrypted.get(row.bsn)
                if token is None:
                    token = encrypted[row.bsn] = self.cipher.encrypt(row.bsn)
                inserts[key] = {
                    "id": _record_id(),
                    "employer_lhn": row.loonheffingennummer,
                    "employer_id": employer_of(row.loonheffingennummer),
                    "bsn_hash": bsn_hash,
                    "bsn_encrypted": token,
                    "bsn_last3": row.bsn[-3:],
                    "period_start": row.period_start,
                    "period_end": row.period_end,
                    **figures,
                    "import_id": import_id,
                    "imported_at": self.now,
                    "updated_at": self.now,
                }
            reports.append(RowReport(line=line, reference=row.reference, status=status))
        # COPY on PostgreSQL, one executemany on SQLite: no ORM or statement building per row.
        # In key order too: the unique index and the employer's take them page by page.
        insert_plain_rows(session, _TABLE, [inserts[key] for key in sorted(inserts)], _COLUMNS)
        if updates:
            session.execute(
                _CORRECT,
                [
                    {**values, "import_id": import_id, "updated_at": self.now}
                    for values in updates.values()
                ],
            )
        return reports


def import_rows(
    session: Session,
    rows: Iterable[RawRow],
    *,
    cipher: PersonalDataCipher,
    today: date,
    actor_id: str,
    source: str,
    filename: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[Session], None] | None = None,
    on_row: Callable[[RowReport], None] | None = None,
) -> ImportResult:
    """Import every row; a row that cannot be read is reported, never fatal."""
    importer = PayrollImporter(
        session,
        cipher=cipher,
        today=today,
        actor_id=actor_id,
        source=source,
        filename=filename,
        batch_size=batch_size,
        on_batch=on_batch,
        on_row=on_row,
    )
    error: str | None = None
    try:
        importer.add_all(rows)
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        # The rows before stay imported (a re-run skips them); say why the rest was not read.
        error = f"the delivery could not be read after {importer.result.total} rows: {exc}"
    return importer.finish(error)


def field_errors_text(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field or '(row)'}: {e.message}" for e in errors)
