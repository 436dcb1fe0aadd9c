"""`meldplicht privacy ...`: re-encrypt personal data under the newest key; apply retention.

Key rotation, step by step (docs/SECURITY.md): put a new Fernet key in FRONT of
MELDPLICHT_PII_ENCRYPTION_KEYS and restart; run `meldplicht privacy rotate-keys` (it may be
run again safely, and resumes where it stopped); then remove the old key and restart.
The keyed hash that matches BSNs (MELDPLICHT_PII_HASH_KEY) is not rotated by this command.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, TypeVar

import typer
from cryptography.fernet import InvalidToken
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from meldplicht.core.clock import today
from meldplicht.core.config import get_settings
from meldplicht.core.crypto import PersonalDataCipher, cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.models import import_all_models
from meldplicht.notifications.models import Worker
from meldplicht.payroll.models import PayrollRecord

app = typer.Typer(help="Personal data: key rotation and retention.", no_args_is_help=True)

DEFAULT_BATCH = 500
Row = TypeVar("Row", Worker, PayrollRecord)


@dataclass(slots=True)
class RotationCounts:
    workers_seen: int = 0
    bsns_rotated: int = 0
    document_numbers_rotated: int = 0
    v_numbers_rotated: int = 0
    payroll_seen: int = 0
    payroll_rotated: int = 0
    unreadable: int = 0  # under none of the configured keys: a key was removed too early


def _rotated(cipher: PersonalDataCipher, token: str | None, counts: RotationCounts) -> str | None:
    """The token under the newest key, or None when it already is (or there is none)."""
    if not token or cipher.is_current(token):
        return None
    try:
        return cipher.rotate(token)
    except InvalidToken:
        counts.unreadable += 1
        return None


def _batches(
    engine: Engine,
    model: type[Row],
    batch_size: int,
    work: Callable[[Row], None],
) -> None:
    """Keyset batches by id, one transaction each: a crash loses at most one batch's work."""
    after: uuid.UUID | None = None
    while True:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            query = select(model).order_by(col(model.id)).limit(batch_size)
            if after is not None:
                query = query.where(col(model.id) > after)
            rows = list(session.exec(query))
            if not rows:
                return
            for row in rows:
                work(row)
                session.add(row)
            after = rows[-1].id


def rotate_keys(
    engine: Engine, cipher: PersonalDataCipher, batch_size: int = DEFAULT_BATCH
) -> RotationCounts:
    """Re-encrypt every stored BSN, V-number and document number under the newest key."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    import_all_models()
    counts = RotationCounts()

    def worker(row: Worker) -> None:
        counts.workers_seen += 1
        if (bsn := _rotated(cipher, row.bsn_encrypted, counts)) is not None:
            row.bsn_encrypted = bsn
            counts.bsns_rotated += 1
        if (doc := _rotated(cipher, row.document_number_encrypted, counts)) is not None:
            row.document_number_encrypted = doc
            counts.document_numbers_rotated += 1
        if (v_number := _rotated(cipher, row.v_number_encrypted, counts)) is not None:
            row.v_number_encrypted = v_number
            counts.v_numbers_rotated += 1

    def payroll(row: PayrollRecord) -> None:
        counts.payroll_seen += 1
        if (bsn := _rotated(cipher, row.bsn_encrypted, counts)) is not None:
            row.bsn_encrypted = bsn
            counts.payroll_rotated += 1

    _batches(engine, Worker, batch_size, worker)
    _batches(engine, PayrollRecord, batch_size, payroll)
    return counts


@app.command("rotate-keys")
def rotate_keys_command(
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = DEFAULT_BATCH,
) -> None:
    """Re-encrypt every stored BSN and document number under the newest key (the first of
    MELDPLICHT_PII_ENCRYPTION_KEYS). Safe to run again; prints the counts as JSON."""
    import json

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:
        counts = rotate_keys(engine, cipher_for(settings), batch_size)
    finally:
        engine.dispose()
    typer.echo(json.dumps(asdict(counts)))
    if counts.unreadable:
        typer.secho(
            f"{counts.unreadable} value(s) are readable under none of the configured keys: "
            "put the key they were written with back in MELDPLICHT_PII_ENCRYPTION_KEYS.",
            err=True,
        )
        raise typer.Exit(1)


@app.command("purge")
def purge_command(
    as_of: Annotated[str | None, typer.Option(help="Day to judge on (default: today).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per batch.")] = DEFAULT_BATCH,
) -> None:
    """Anonymise notifications and delete payroll records past the retention period (the
    nightly sweep does this too). Prints the counts as JSON."""
    import json

    from meldplicht.privacy.retention import purge

    try:
        day = date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        typer.secho(f"--as-of must be a date like 2031-01-01, not {as_of!r}.", err=True)
        raise typer.Exit(1) from None
    settings = get_settings()
    import_all_models()
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            counts = purge(session, day, batch_size, cipher=cipher_for(settings))
    finally:
        engine.dispose()
    typer.echo(json.dumps(counts.as_dict()))
