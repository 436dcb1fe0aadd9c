"""The admin import of an older system's notifications, with their original receipt instants."""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from meldplicht.core.clock import LEGAL_TZ, legal_date, utcnow
from meldplicht.core.config import Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.errors import DomainError, FieldError
from meldplicht.core.security import Principal
from meldplicht.employers.service import get_by_kvk
from meldplicht.notifications import csv_format, intake, references
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel
from meldplicht.notifications.schemas import NotificationCreate
from meldplicht.rules.checks.base import date_en, date_nl
from meldplicht.rules.params import ParameterError
from meldplicht.rules.protection import protection_start

BATCH_SIZE = 500
IMPORT_ACTOR = Principal(role="admin", actor_id="cli:import", display_name="import")
REPORT_HEADER = ["line", "external_reference", "status", "receipt_number", "errors"]
MAX_REFERENCE_LENGTH = 64
# The summary names this many rejected rows (line + reasons); --report holds them all.
MAX_ROWS_IN_SUMMARY = 1000
# A receipt instant later than now (beyond clock skew between systems) cannot be original.
FUTURE_TOLERANCE = timedelta(minutes=5)

ACCEPTED = "accepted"
ALREADY_PRESENT = "already_present"
CONFLICT = "conflict"
REJECTED = "rejected"


@dataclass(slots=True)
class RowOutcome:
    line: int
    external_reference: str
    status: str
    receipt_number: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def report_row(self) -> list[str]:
        text = "; ".join(f"{e.field or '(row)'}: {e.message}" for e in self.errors)
        return [str(self.line), self.external_reference, self.status, self.receipt_number, text]


def _error(field_name: str, code: str, message: str, message_nl: str) -> FieldError:
    return FieldError(field=field_name, code=code, message=message, message_nl=message_nl)


def parse_received_at(value: str) -> datetime:
    """An ISO 8601 instant as UTC; without an offset it is read as Europe/Amsterdam time."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LEGAL_TZ)
    return parsed.astimezone(UTC)


class _EmployerIds:
    """KvK number -> employer id, asked once per KvK number per run."""

    def __init__(self) -> None:
        self._ids: dict[str, uuid.UUID | None] = {}

    def get(self, session: Session, kvk: str) -> uuid.UUID | None:
        if kvk not in self._ids:
            employer = get_by_kvk(session, kvk)
            self._ids[kvk] = employer.id if employer else None
        return self._ids[kvk]


def _meta_errors(
    record: csv_format.Record, now: datetime
) -> tuple[str, str, datetime | None, list[FieldError]]:
    """Check the import-only cells; every problem is reported, with the notice's own errors."""
    errors: list[FieldError] = []
    reference = record.meta.get("external_reference", "")
    kvk = record.meta.get("employer_kvk", "")
    received_raw = record.meta.get("received_at", "")
    if not reference:
        errors.append(
            _error(
                "external_reference",
                "missing",
                "Give the notification's reference in the old system: it makes a re-run safe.",
                "Geef de referentie uit het oude systeem: daarmee is opnieuw importeren veilig.",
            )
        )
    elif len(reference) > MAX_REFERENCE_LENGTH:
        errors.append(
            _error(
                "external_reference",
                "string_too_long",
                f"At most {MAX_REFERENCE_LENGTH} characters.",
                f"Ten hoogste {MAX_REFERENCE_LENGTH} tekens.",
            )
        )
    if not kvk:
        errors.append(
            _error(
                "employer_kvk",
                "missing",
                "Give the employer's KvK number.",
                "Geef het KvK-nummer van de werkgever.",
            )
        )
    received_at: datetime | None = None
    if not received_raw:
        errors.append(
            _error(
                "received_at",
                "missing",
                "Give the original receipt instant (ISO 8601, e.g. 2024-05-01T09:30:00+02:00).",
                "Geef het oorspronkelijke ontvangstmoment (ISO 8601).",
            )
        )
    else:
        try:
            received_at = parse_received_at(received_raw)
        except ValueError:
            errors.append(
                _error(
                    "received_at",
                    "datetime_parsing",
                    "Not an ISO 8601 instant (e.g. 2024-05-01T09:30:00+02:00).",
                    "Geen geldig ISO 8601-tijdstip (bijv. 2024-05-01T09:30:00+02:00).",
                )
            )
        else:
            if legal_date(received_at) < (began := protection_start()):
                errors.append(
                    _error(
                        "received_at",
                        "received_before_protection",
                        f"The receipt instant lies before {date_en(began)}, when temporary "
                        "protection and its exemption began (Besluit uitvoering Wav 2022 art. "
                        "6.5): no notice of this kind can have been received then. "
                        "Check the date.",
                        f"Het ontvangstmoment ligt voor {date_nl(began)}, toen de tijdelijke "
                        "bescherming en haar vrijstelling begonnen (art. 6.5 Besluit uitvoering "
                        "Wav 2022): zo'n melding kan toen niet ontvangen zijn. "
                        "Controleer de datum.",
                    )
                )
                received_at = None
            elif received_at > now + FUTURE_TOLERANCE:
                errors.append(
                    _error(
                        "received_at",
                        "received_in_future",
                        "The receipt instant lies in the future.",
                        "Het ontvangstmoment ligt in de toekomst.",
                    )
                )
                received_at = None
    return reference, kvk, received_at, errors


def _import_one(
    session: Session,
    record: csv_format.Record,
    employers: _EmployerIds,
    settings: Settings,
    now: datetime,
) -> RowOutcome:
    reference, kvk, received_at, errors = _meta_errors(record, now)
    rename = csv_format.to_columns if record.errors_use_columns else list
    if isinstance(record.result, list):
        errors.extend(record.result)
    employer_id = employers.get(session, kvk) if kvk else None
    if kvk and employer_id is None:
        errors.append(
            _error(
                "employer_kvk",
                "employer_not_found",
                f"No employer with KvK number {kvk}: register it first "
                "(meldplicht employers create).",
                f"Geen werkgever met KvK-nummer {kvk}: registreer die eerst.",
            )
        )
    if errors or employer_id is None or received_at is None:
        return RowOutcome(record.line, reference, REJECTED, errors=errors)
    assert isinstance(record.result, NotificationCreate)

    cipher = cipher_for(settings)
    known = references.stored_under(session, employer_id, {reference}).get(reference)
    if known is not None:
        # The same notice again is a replay (a re-run stores nothing twice); another notice
        # under the reference (another worker, other terms) is a conflict, never "present".
        bsn_hash = cipher.keyed_hash(record.result.worker.bsn)
        if references.is_replay(known, record.result, bsn_hash):
            return RowOutcome(record.line, reference, ALREADY_PRESENT, known.receipt_number)
        return RowOutcome(
            record.line,
            reference,
            CONFLICT,
            errors=[references.conflict_error(known)],
        )
    ctx = Context(
        actor=IMPORT_ACTOR,
        cipher=cipher,
        channel=Channel.IMPORT,
        received_at=received_at,
    )
    try:
        # A savepoint per row: a row that fails half-way leaves nothing of itself behind,
        # and the rows before it in the batch stay.
        with session.begin_nested():
            notification, _ = intake.create(
                session, employer_id, record.result, ctx, external_reference=reference
            )
    except DomainError as exc:
        found = exc.errors or [_error("", exc.code, str(exc), str(exc))]
        return RowOutcome(record.line, reference, REJECTED, errors=rename(found))
    except ParameterError as exc:
        # The law data does not cover this row's dates: a row error, never a crash that
        # loses the batch and every row after it.
        return RowOutcome(
            record.line,
            reference,
            REJECTED,
            errors=[
                _error(
                    "received_at",
                    "no_law_data",
                    f"The rules cannot judge this row: {exc}",
                    f"De regels kunnen deze regel niet beoordelen: {exc}",
                )
            ],
        )
    except SQLAlchemyError as exc:
        # One row the database refuses (a value too long for a column, say) must not stop a
        # migration of 100,000 rows: it is reported and the run goes on.
        reason = type(getattr(exc, "orig", None) or exc).__name__
        return RowOutcome(
            record.line,
            reference,
            REJECTED,
            errors=[
                _error(
                    "",
                    "database_error",
                    f"The database refused this row ({reason}).",
                    f"De database weigerde deze regel ({reason}).",
                )
            ],
        )
    return RowOutcome(record.line, reference, ACCEPTED, notification.receipt_number)


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


@contextmanager
def _progress(show: bool) -> Iterator[Progress | None]:
    if not show:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        yield progress


def run_import(
    file: Path,
    *,
    report_path: Path | None,
    show_progress: bool,
    settings: Settings | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Import every row of `file`, committing every BATCH_SIZE rows; return the counts.

    Re-running the same file is safe: a row whose (employer, external_reference) is stored
    already with the same content is counted as already_present and left alone; with other
    content (another worker, other terms) it is a conflict: reported, nothing stored.
    """
    settings = settings or get_settings()
    own_engine = engine is None
    db = engine if engine is not None else create_db_engine(settings.database_url)
    counts = {ACCEPTED: 0, ALREADY_PRESENT: 0, CONFLICT: 0, REJECTED: 0}
    started = time.perf_counter()
    now = utcnow()
    employers = _EmployerIds()
    file_error: str | None = None
    pending: list[RowOutcome] = []
    refused_rows: dict[str, list[dict[str, Any]]] = {REJECTED: [], CONFLICT: []}

    with ExitStack() as stack:
        report: Any = None
        if report_path is not None:
            report_path.parent.mkdir(parents=True, exist_ok=True)
            handle: TextIO = stack.enter_context(
                report_path.open("w", encoding="utf-8", newline="")
            )
            report = csv.writer(handle)
            report.writerow(REPORT_HEADER)
        progress = stack.enter_context(_progress(show_progress))
        task = (
            progress.add_task(f"Importing {file.name}", total=max(_count_lines(file) - 1, 0))
            if progress is not None
            else None
        )
        session = stack.enter_context(Session(db, expire_on_commit=False))

        def flush_batch() -> None:
            session.commit()
            # Nothing of the batch is needed again: drop it so memory stays flat.
            session.expunge_all()
            for outcome in pending:
                counts[outcome.status] += 1
                refused = refused_rows.get(outcome.status)
                if refused is not None and len(refused) < MAX_ROWS_IN_SUMMARY:
                    refused.append(
                        {
                            "line": outcome.line,
                            "external_reference": outcome.external_reference,
                            "errors": [
                                {"field": e.field, "code": e.code, "message": e.message}
                                for e in outcome.errors
                            ],
                        }
                    )
                if report is not None:
                    report.writerow(outcome.report_row())
            pending.clear()

        try:
            for record in csv_format.iter_records(file):
                pending.append(_import_one(session, record, employers, settings, now))
                if progress is not None and task is not None:
                    progress.advance(task)
                if len(pending) >= BATCH_SIZE:
                    flush_batch()
        except (UnicodeDecodeError, csv.Error) as exc:
            # The rows read so far are good; keep them (a re-run skips them) and say why
            # the rest was not read.
            read = len(pending) + sum(counts.values())
            file_error = f"{file.name} could not be read after {read} rows: {exc}"
        flush_batch()

    if own_engine:
        db.dispose()
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    summary: dict[str, Any] = {
        "total": total,
        "imported": counts[ACCEPTED],
        "already_present": counts[ALREADY_PRESENT],
        "conflict": counts[CONFLICT],
        "rejected": counts[REJECTED] + (1 if file_error else 0),
        "seconds": round(seconds, 2),
        "rows_per_second": round(total / seconds, 1) if seconds > 0 else None,
    }
    if refused_rows[REJECTED]:
        summary["rejected_rows"] = refused_rows[REJECTED]
    if refused_rows[CONFLICT]:
        summary["conflict_rows"] = refused_rows[CONFLICT]
    if file_error:
        summary["error"] = file_error
    if report_path is not None:
        summary["report"] = str(report_path)
    return summary
