"""`meldplicht import-payroll FILE`: a payroll delivery from disk, with a progress bar."""

from __future__ import annotations

import csv
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from meldplicht.core.clock import today
from meldplicht.core.config import Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.payroll import service
from meldplicht.payroll.schemas import PayrollFormat, RowReport, format_for_filename, iter_rows

REPORT_HEADER = ["line", "reference", "status", "errors"]
# A file on disk is written in larger batches than an upload: on SQLite every commit writes
# each index page the batch touched (three of the record's indexes are random: id, BSN hash,
# the key), so fewer, larger commits write far less. Memory stays flat: one batch at a time.
CLI_BATCH_SIZE = 10_000
# For the import's own connection on SQLite: a page cache that holds a batch's index pages
# (bounded: 64 MB whatever the file's size), and fewer checkpoints (each one fsyncs).
SQLITE_IMPORT_PRAGMAS = {"cache_size": -65_536, "wal_autocheckpoint": 10_000}


# Python's cyclic garbage collector runs after every 700 net allocations by default; an import
# allocates a dozen objects per row (none of them in a cycle: reference counting frees each
# batch), so it ran some 1,500 times per 100,000 rows, each time walking the batch in hand,
# for about an eighth of the import's CPU time. A larger first threshold lets it run a few
# times per batch; what it would collect is still collected.
IMPORT_GC_THRESHOLD = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], IMPORT_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _import_connection(db: Engine) -> Iterator[Connection]:
    """One connection for the whole import, tuned for it on SQLite and restored afterwards
    (it goes back to the pool)."""
    with db.connect() as connection:
        if db.dialect.name != "sqlite":
            yield connection
            return
        before = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in SQLITE_IMPORT_PRAGMAS
        }
        for name, value in SQLITE_IMPORT_PRAGMAS.items():
            connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
        # End the transaction the pragmas began: the session must own (and commit) its own.
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            for name, old in before.items():
                connection.exec_driver_sql(f"PRAGMA {name}={int(str(old))}")
            connection.commit()


def run_payroll_import(
    file: Path,
    *,
    fmt: PayrollFormat,
    report_path: Path | None = None,
    show_progress: bool = False,
    batch_size: int = CLI_BATCH_SIZE,
    settings: Settings | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Import `file`, committing every batch; return the counts (and rows per second)."""
    settings = settings or get_settings()
    db = engine if engine is not None else create_db_engine(settings.database_url)
    size = file.stat().st_size
    with ExitStack() as stack:
        writer: Any = None
        if report_path is not None:
            report_path.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(report_path.open("w", encoding="utf-8", newline=""))
            writer = csv.writer(handle)
            writer.writerow(REPORT_HEADER)
        progress: Progress | None = None
        if show_progress:
            progress = stack.enter_context(
                Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TextColumn("{task.fields[rows]:,} rows"),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                )
            )
        task = progress.add_task(f"Importing {file.name}", total=size, rows=0) if progress else None
        stack.enter_context(_fewer_collections())
        binary = stack.enter_context(file.open("rb"))
        connection = stack.enter_context(_import_connection(db))
        session = stack.enter_context(Session(connection, expire_on_commit=False))
        seen = 0

        def on_row(report: RowReport) -> None:
            nonlocal seen
            seen += 1
            if writer is not None:
                text = service.field_errors_text(report.errors)
                writer.writerow([report.line, report.reference or "", report.status, text])

        def on_batch(s: Session) -> None:
            s.commit()
            s.expunge_all()  # nothing of the batch is needed again: memory stays flat
            if progress is not None and task is not None:
                progress.update(task, completed=binary.tell(), rows=seen)

        result = service.import_rows(
            session,
            iter_rows(binary, fmt),
            cipher=cipher_for(settings),
            today=today(),
            actor_id="cli:import-payroll",
            source="cli",
            filename=file.name,
            batch_size=batch_size,
            on_batch=on_batch,
            on_row=on_row,
        )
    if engine is None:
        db.dispose()
    summary = result.summary()
    if report_path is not None:
        summary["report"] = str(report_path)
    return summary


def import_payroll(
    file: Annotated[Path, typer.Argument(help="CSV (.csv) or JSON lines (.jsonl, .ndjson).")],
    report: Annotated[Path | None, typer.Option(help="Write the per-row report here.")] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per committed batch.")] = CLI_BATCH_SIZE,
) -> None:
    """Import a payroll delivery (streamed, batch commits; re-running a file is safe)."""
    if not file.exists():
        typer.secho(f"No such file: {file}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    fmt = format_for_filename(file.name)
    if fmt is None:
        typer.secho("Name the file .csv, .jsonl or .ndjson.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    summary = run_payroll_import(
        file,
        fmt=fmt,
        report_path=report,
        show_progress=sys.stderr.isatty(),
        batch_size=max(1, batch_size),
    )
    typer.echo(json.dumps(summary, indent=2))
    if summary.get("rejected") or summary.get("error"):
        raise typer.Exit(2)
