"""Bulk upload of notifications (CSV): every row is stored or refused on its own.

The API endpoint is in notifications/router.py, the page in web/employer.py; both store through
here. Uploads stored in the background are kept in `jobs` (this process's memory).

Each row runs in its own SAVEPOINT, so a refused row leaves nothing behind. `store_rows` works
in the caller's transaction: the API endpoint (and the page, for small files) store the whole
file in the request's transaction and answer after the commit. `run` is for large files on the
page: a background thread (`run_in_background`) commits BATCH_SIZE rows at a time, so the
database's write lock is never held for long and other requests interleave between batches.
"""

from __future__ import annotations

import csv
import itertools
import logging
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.errors import (
    DomainError,
    FieldError,
    InvalidRequest,
    NotFound,
)
from meldplicht.core.security import Principal
from meldplicht.notifications import csv_format, intake, references
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel
from meldplicht.notifications.schemas import NotificationCreate
from meldplicht.rules.facts import Finding

log = logging.getLogger("meldplicht.bulk")

BATCH_SIZE = 50
MAX_REFERENCE_LENGTH = 64
RowStatus = Literal["accepted", "checked", "already_present", "conflict", "rejected"]
# Findings at or above this severity make a stored row "flagged": it goes into the fix file.
FLAG_SEVERITIES = frozenset({"low", "medium", "high"})


class RowFinding(BaseModel):
    """A finding of the rules on the row, as the notification's receipt names it."""

    code: str
    severity: str
    message: str = Field(description="In the language the request asked for.")
    message_nl: str
    message_en: str
    legal_basis: str


class RowReport(BaseModel):
    line: int = Field(description="Line number in the file (the header is line 1).")
    external_reference: str | None = None
    worker_name: str | None = Field(None, description="The worker's name as the row gives it.")
    status: RowStatus = Field(
        description="accepted (stored, with receipt), checked (dry run: would be accepted), "
        "already_present (the same reference with the same content was stored before: nothing "
        "stored twice), conflict (the reference is already used for another notice: nothing "
        "stored), rejected (errors: nothing stored)."
    )
    receipt_number: str | None = None
    notification_id: uuid.UUID | None = None
    errors: list[FieldError] = Field(
        default_factory=list, description="Every error of the row; `field` names the column."
    )
    findings: list[RowFinding] = Field(
        default_factory=list, description="What the rules found (accepted or checked rows)."
    )

    @property
    def flagged(self) -> bool:
        return any(f.severity in FLAG_SEVERITIES for f in self.findings)

    def in_language(self, lang: str) -> RowReport:
        return self.model_copy(
            update={
                "errors": [e.in_language(lang) for e in self.errors],
                "findings": [
                    f.model_copy(update={"message": f.message_nl if lang == "nl" else f.message_en})
                    for f in self.findings
                ],
            }
        )


class BulkReport(BaseModel):
    dry_run: bool = Field(False, description="True: the file was checked, nothing was stored.")
    total: int
    accepted: int
    checked: int = 0
    already_present: int
    conflict: int = 0
    rejected: int
    flagged: int = Field(0, description="Accepted or checked rows with findings to act on.")
    rows: list[RowReport]


def report_of(rows: list[RowReport], *, dry_run: bool = False, lang: str = "en") -> BulkReport:
    return BulkReport(
        dry_run=dry_run,
        total=len(rows),
        accepted=sum(r.status == "accepted" for r in rows),
        checked=sum(r.status == "checked" for r in rows),
        already_present=sum(r.status == "already_present" for r in rows),
        conflict=sum(r.status == "conflict" for r in rows),
        rejected=sum(r.status == "rejected" for r in rows),
        flagged=sum(r.flagged for r in rows),
        rows=[r.in_language(lang) for r in rows],
    )


def _row_findings(findings: Iterable[Finding]) -> list[RowFinding]:
    ordered = sorted(findings, key=lambda f: (str(f.severity), f.code))
    return [
        RowFinding(
            code=f.code,
            severity=str(f.severity),
            message=f.message_en,
            message_nl=f.message_nl,
            message_en=f.message_en,
            legal_basis=f.legal_basis,
        )
        for f in ordered
    ]


def _same_reference(
    record: csv_format.Record,
    payload: NotificationCreate,
    known: references.Stored,
    bsn_hash: str,
) -> RowReport:
    """A row whose reference is stored already: a replay when it declares the same notice,
    else a conflict (never "already notified" for another worker or other terms)."""
    reference = record.meta.get("external_reference")
    if references.is_replay(known, payload, bsn_hash):
        return RowReport(
            line=record.line,
            external_reference=reference,
            worker_name=record.worker_name,
            status="already_present",
            receipt_number=known.receipt_number,
            notification_id=known.notification_id,
        )
    return RowReport(
        line=record.line,
        external_reference=reference,
        worker_name=record.worker_name,
        status="conflict",
        errors=[references.conflict_error(known)],
    )


def file_error(code: str, en: str, nl: str) -> InvalidRequest:
    return InvalidRequest(
        en, errors=[FieldError(field="file", code=code, message=en, message_nl=nl)]
    )


# Without these a row can never be a notification: a file lacking them is refused whole.
REQUIRED_COLUMNS = ("worker_bsn", "worker_birth_date", "contract_type", "start_date", "wage_amount")

# A staffing agency's largest realistic file is a few thousand rows; 20,000 leaves room while
# keeping one upload from occupying the server for many minutes.
MAX_ROWS = 20_000


def read_csv(data: bytes) -> list[csv_format.Record]:
    """The rows of an uploaded CSV (UTF-8, with or without BOM; `,` `;` or tab separated)."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise file_error(
            "not_utf8",
            "The file is not UTF-8 text: save it as 'CSV UTF-8'.",
            "Het bestand is geen UTF-8-tekst: sla het op als 'CSV UTF-8'.",
        ) from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(data)
        try:
            records = list(itertools.islice(csv_format.iter_csv(path), MAX_ROWS + 1))
        except csv.Error as exc:
            # Python's csv module refuses a cell over 131,072 characters (and a few broken
            # quotings); no real cell of a notification is near that.
            raise file_error(
                "unreadable_csv",
                "The file cannot be read as CSV (a cell is far too long or a quote is not "
                "closed): start from the template.",
                "Het bestand is niet als CSV te lezen (een cel is veel te lang of een "
                "aanhalingsteken is niet gesloten): begin met het sjabloon.",
            ) from exc
        with path.open(encoding="utf-8-sig") as f:
            header = f.readline()
    if not header.strip():
        raise file_error(
            "empty_file",
            "The file is empty: start from the template (header line + one row per worker).",
            "Het bestand is leeg: begin met het sjabloon (kopregel + één regel per werknemer).",
        )
    cells = next(csv.reader([header.strip()], delimiter=csv_format.sniff_delimiter(header)))
    columns = {c.strip().lower() for c in cells}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise file_error(
            "missing_columns",
            f"The header line lacks the columns {', '.join(missing)}: start from the template.",
            f"De kopregel mist de kolommen {', '.join(missing)}: begin met het sjabloon.",
        )
    if len(records) > MAX_ROWS:
        raise file_error(
            "too_many_rows",
            f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.",
            f"Het bestand heeft meer dan {MAX_ROWS:,} regels: splits het in kleinere bestanden.",
        )
    return records


@dataclass(slots=True)
class Progress:
    """How far an upload is; read by the progress page while a thread writes it."""

    total: int
    done: int = 0
    rows: list[RowReport] = field(default_factory=list)


def _refused(record: csv_format.Record, errors: list[FieldError]) -> RowReport:
    return RowReport(
        line=record.line,
        external_reference=record.meta.get("external_reference"),
        worker_name=record.worker_name,
        status="rejected",
        errors=errors,
    )


def _meta_errors(record: csv_format.Record) -> list[FieldError]:
    errors = [
        FieldError(
            field=column,
            code="import_only_column",
            message="Only the administrator's import may set this column; leave it empty.",
            message_nl="Alleen de beheerdersimport mag deze kolom vullen; laat hem leeg.",
        )
        for column in csv_format.IMPORT_ONLY_COLUMNS
        if record.meta.get(column)
    ]
    reference = record.meta.get("external_reference")
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        errors.append(
            FieldError(
                field="external_reference",
                code="string_too_long",
                message=f"At most {MAX_REFERENCE_LENGTH} characters.",
                message_nl=f"Ten hoogste {MAX_REFERENCE_LENGTH} tekens.",
            )
        )
    return errors


def store_rows(
    session: Session,
    employer_id: uuid.UUID,
    records: Iterable[csv_format.Record],
    actor: Principal,
    settings: Settings,
    *,
    dry_run: bool = False,
) -> Iterator[RowReport]:
    """Store the valid rows; the caller owns (and commits) the session.

    The rows go in together (`intake.create_batch`: one statement per table) inside one
    savepoint; if anything in the batch fails, it is rolled back and every row is stored in
    a savepoint of its own, so a bad row is reported alone and nothing is half-stored.
    With `dry_run` nothing is written: each row gets what storing it would give (rejected,
    conflict, already_present, or checked with the findings `intake.check` gives).
    """
    records = list(records)
    if dry_run:
        yield from _check_rows(session, employer_id, records, settings)
        return
    fast = _store_batch(session, employer_id, records, actor, settings)
    if fast is not None:
        yield from fast
        return
    yield from _store_one_by_one(session, employer_id, records, actor, settings)


def _check_rows(
    session: Session,
    employer_id: uuid.UUID,
    records: list[csv_format.Record],
    settings: Settings,
) -> Iterator[RowReport]:
    cipher = cipher_for(settings)
    refs = {r.meta["external_reference"] for r in records if "external_reference" in r.meta}
    present = references.stored_under(session, employer_id, refs)
    now = utcnow()
    for record in records:
        errors = _meta_errors(record)
        if isinstance(record.result, list):
            errors.extend(record.result)
        if errors:
            yield _refused(record, errors)
            continue
        assert not isinstance(record.result, list)
        payload = record.result
        reference = record.meta.get("external_reference")
        bsn_hash = cipher.keyed_hash(payload.worker.bsn)
        if reference is not None and reference in present:
            yield _same_reference(record, payload, present[reference], bsn_hash)
            continue
        try:
            findings = intake.check(payload, now)
        except DomainError as exc:
            yield _refused(record, csv_format.to_columns(exc.errors) or [_whole_row(exc)])
            continue
        if reference is not None:
            # A later row of this file with the same reference meets this one as stored.
            present[reference] = references.unsaved(payload, bsn_hash)
        yield RowReport(
            line=record.line,
            external_reference=reference,
            worker_name=record.worker_name,
            status="checked",
            findings=_row_findings(findings),
        )


def _store_batch(
    session: Session,
    employer_id: uuid.UUID,
    records: list[csv_format.Record],
    actor: Principal,
    settings: Settings,
) -> list[RowReport] | None:
    cipher = cipher_for(settings)
    reports: list[RowReport | None] = []
    refs = {r.meta["external_reference"] for r in records if "external_reference" in r.meta}
    if len(refs) < sum("external_reference" in r.meta for r in records):
        return None  # a reference twice in one file: the careful path compares them in order
    present = references.stored_under(session, employer_id, refs)
    items: list[tuple[NotificationCreate, str | None]] = []
    slots: list[int] = []
    for record in records:
        errors = _meta_errors(record)
        if isinstance(record.result, list):
            errors.extend(record.result)
        if errors:
            reports.append(_refused(record, errors))
            continue
        assert not isinstance(record.result, list)
        reference = record.meta.get("external_reference")
        if reference is not None and reference in present:
            bsn_hash = cipher.keyed_hash(record.result.worker.bsn)
            reports.append(_same_reference(record, record.result, present[reference], bsn_hash))
            continue
        slots.append(len(reports))
        reports.append(None)
        items.append((record.result, reference))
    if items:
        ctx = Context(
            actor=actor,
            cipher=cipher,
            channel=Channel.BULK,
            received_at=utcnow(),
        )
        try:
            with session.begin_nested():
                created = intake.create_batch(session, employer_id, items, ctx)
        except (DomainError, IntegrityError):
            return None  # the careful path names the failing row
        for slot, (_, reference), item in zip(slots, items, created, strict=True):
            record = records[slot]
            reports[slot] = RowReport(
                line=record.line,
                external_reference=reference,
                worker_name=record.worker_name,
                status="accepted",
                receipt_number=item.receipt_number,
                notification_id=item.notification_id,
                findings=_row_findings(item.findings),
            )
    return [r for r in reports if r is not None]


def _store_one_by_one(
    session: Session,
    employer_id: uuid.UUID,
    records: list[csv_format.Record],
    actor: Principal,
    settings: Settings,
) -> Iterator[RowReport]:
    cipher = cipher_for(settings)
    for record in records:
        errors = _meta_errors(record)
        if isinstance(record.result, list):
            errors.extend(record.result)
        if errors:
            yield _refused(record, errors)
            continue
        assert not isinstance(record.result, list)
        reference = record.meta.get("external_reference")
        if reference is not None:
            known = references.stored_under(session, employer_id, {reference}).get(reference)
            if known is not None:
                # The same file again stores nothing twice; another notice is a conflict.
                bsn_hash = cipher.keyed_hash(record.result.worker.bsn)
                yield _same_reference(record, record.result, known, bsn_hash)
                continue
        ctx = Context(
            actor=actor,
            cipher=cipher,
            channel=Channel.BULK,
            received_at=utcnow(),  # each row's own receipt instant
        )
        try:
            with session.begin_nested():
                notification, findings = intake.create(
                    session, employer_id, record.result, ctx, external_reference=reference
                )
        except DomainError as exc:
            yield _refused(record, csv_format.to_columns(exc.errors) or [_whole_row(exc)])
            continue
        yield RowReport(
            line=record.line,
            external_reference=reference,
            worker_name=record.worker_name,
            status="accepted",
            receipt_number=notification.receipt_number,
            notification_id=notification.id,
            findings=_row_findings(findings),
        )


def _whole_row(exc: DomainError) -> FieldError:
    return FieldError(field="", code=exc.code, message=str(exc))


def run(
    engine: Engine,
    employer_id: uuid.UUID,
    records: list[csv_format.Record],
    actor: Principal,
    settings: Settings,
    progress: Progress | None = None,
    on_batch: Callable[[], None] | None = None,
) -> list[RowReport]:
    """Every row, committed BATCH_SIZE rows at a time; returns the per-row report."""
    progress = progress or Progress(total=len(records))
    for start in range(0, len(records), BATCH_SIZE):
        batch = records[start : start + BATCH_SIZE]
        with Session(engine, expire_on_commit=False) as session, session.begin():
            reports = list(store_rows(session, employer_id, batch, actor, settings))
        progress.rows.extend(reports)
        progress.done += len(batch)
        if on_batch is not None:
            on_batch()
    return progress.rows


# --- uploads stored in the background (the employer page) ------------------------------------


@dataclass(slots=True)
class Job:
    """One upload being stored in a background thread (kept in this process's memory)."""

    id: str
    employer_id: uuid.UUID
    filename: str
    progress: Progress
    dry_run: bool = False
    records: list[csv_format.Record] = field(default_factory=list)  # for the fix file
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    failed: bool = False
    done_event: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.done_event.is_set()


class Jobs:
    """The running and recent uploads; finished ones are forgotten after KEEP."""

    KEEP = timedelta(hours=8)

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def add(self, job: Job) -> None:
        with self._lock:
            cutoff = utcnow() - self.KEEP
            for key in [
                k for k, j in self._jobs.items() if j.finished_at and j.finished_at < cutoff
            ]:
                del self._jobs[key]
            self._jobs[job.id] = job

    def get(self, job_id: str, employer_id: uuid.UUID) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.employer_id != employer_id:
            raise NotFound("No such upload.")
        return job


jobs = Jobs()


def run_in_background(
    job: Job,
    engine: Engine,
    settings: Settings,
    actor: Principal,
    records: list[csv_format.Record],
) -> None:
    """Store the upload in a thread of its own (`run`: committed BATCH_SIZE rows at a time);
    the job shows how far it is, and is marked failed if the thread stops on an error."""
    threading.Thread(
        target=_run_job,
        args=(job, engine, settings, actor, records),
        name=f"bulk-{job.id}",
        daemon=True,
    ).start()


def _run_job(
    job: Job,
    engine: Engine,
    settings: Settings,
    actor: Principal,
    records: list[csv_format.Record],
) -> None:
    try:
        run(engine, job.employer_id, records, actor, settings, job.progress)
    except Exception:
        log.exception("bulk upload %s failed after %d rows", job.id, job.progress.done)
        job.failed = True
    finally:
        job.finished_at = utcnow()
        job.done_event.set()
