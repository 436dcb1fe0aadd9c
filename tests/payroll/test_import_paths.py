"""The fast paths of the payroll import give what the plain ones gave: the lean row reader
reads as `PayrollRow` does, the plain insert (COPY on PostgreSQL) stores what `insert()`
stores, corrections and repeats are counted as before, and the command line leaves its
connection as it found it."""

from __future__ import annotations

import gc
import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from meldplicht.core.config import Environment, Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine, insert_plain_rows
from meldplicht.core.migrations import upgrade
from meldplicht.payroll import schemas, service
from meldplicht.payroll.cli import SQLITE_IMPORT_PRAGMAS, run_payroll_import
from meldplicht.payroll.models import PayrollImport, PayrollRecord
from meldplicht.payroll.schemas import PayrollRow, ValidRow
from meldplicht.rules import identifiers
from tests.payroll.helpers import LHN, as_csv, deliver, month, row

TABLE = PayrollRecord.__table__  # type: ignore[attr-defined]
BASE = {
    "loonheffingennummer": LHN,
    "bsn": "111222333",
    "period_start": "2025-03-01",
    "period_end": "2025-03-31",
    "hours_paid": "160",
    "gross_wage": "2640.00",
}
VARIANTS: list[dict[str, Any]] = [
    {},
    {"hours_paid": "120,5", "gross_wage": "1988,25"},
    {"hours_paid": " 120.50 ", "gross_wage": "\t0001988.2"},
    {"hours_paid": "99999.99", "gross_wage": "9999999999.99"},
    {"hours_paid": "100000", "gross_wage": "1.234"},
    {"hours_paid": "1.2.3"},
    {"hours_paid": "1,2,3"},
    {"hours_paid": "-1"},
    {"hours_paid": "1e2"},
    {"hours_paid": "١٢٠"},  # Arabic-Indic digits
    {"gross_wage": 2640},
    {"gross_wage": Decimal("2640.00")},
    {"bsn": " 111222333 "},
    {"bsn": "111222334"},
    {"bsn": "111.222.333"},
    {"bsn": "000000000"},
    {"bsn": "11122233"},
    {"bsn": 111222333},
    {"bsn": "111222333\n"},
    {"bsn": "\u00a0111222333"},
    {"loonheffingennummer": "123456782l01"},
    {"loonheffingennummer": "123456783L01"},
    {"loonheffingennummer": "123456782L1"},
    {"period_start": "2025-02-30"},
    {"period_start": "2025-3-01"},
    {"period_start": "20250301"},
    {"period_start": "0001-01-01"},
    {"period_end": "2025-03-31T00:00:00"},
    {"includes_holiday_allowance": "ja"},
    {"includes_holiday_allowance": " TRUE "},
    {"includes_holiday_allowance": "nee"},
    {"includes_holiday_allowance": "0"},
    {"includes_holiday_allowance": "maybe"},
    {"includes_holiday_allowance": True},
    {"includes_holiday_allowance": 1},
    {"includes_holiday_allowance": None},
    {"birth_date": "1995-03-14"},
    {"birth_date": "1995-13-14"},
    {"birth_date": None},
    {"nationality": "ukr"},
    {"nationality": " UKR"},
    {"nationality": "UK"},
    {"nationality": "ÜKR"},
    {"nationality": None},
    {"document_type": "o_document"},
    {"document_type": "  "},
    {"document_type": "x" * 20},
    {"document_type": "x" * 21},
    {"document_type": "paspoort\u2028"},
    {"reference": "row-1"},
    {"reference": "r" * 64},
    {"reference": "r" * 65},
    {"reference": 7},
    {"colour": "blue"},
]


def _reference(data: dict[str, Any]) -> ValidRow | None:
    try:
        return ValidRow.of(PayrollRow.model_validate(data))
    except ValidationError:
        return None


@pytest.mark.parametrize("variant", VARIANTS, ids=range(len(VARIANTS)))
def test_lean_reader_reads_rows_as_pydantic_does(variant: dict[str, Any]) -> None:
    data = {**BASE, **variant}
    lean = schemas._lean(data)
    reference = _reference(data)
    if lean is not None:  # otherwise pydantic decides, as before
        assert lean == reference
        assert [type(getattr(lean, f)) for f in ValidRow.__slots__] == [
            type(getattr(reference, f)) for f in ValidRow.__slots__
        ]
    for name in BASE:
        missing = {k: v for k, v in data.items() if k != name}
        assert schemas._lean(missing) is None


def test_lean_reader_takes_the_usual_rows() -> None:
    assert schemas._lean(dict(BASE)) is not None
    usual = {**BASE, "birth_date": "1995-03-14", "nationality": "UKR", "reference": "r-1"}
    assert schemas._lean(usual) == _reference(usual)


def test_eleven_test_agrees_with_the_identifiers_module() -> None:
    rng = random.Random(2026)
    numbers = [f"{rng.randrange(10**9):09d}" for _ in range(20_000)]
    numbers += ["000000000", "111222333", "123456782", "999996356"]
    for number in numbers:
        assert schemas._eleven_test(number) == identifiers.is_valid_bsn(number), number


def _record(import_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    now = datetime(2026, 1, 5, 12, 30, 15, 123456, tzinfo=UTC)
    return {
        "id": uuid.uuid4(),
        "employer_lhn": LHN,
        "employer_id": None,
        "bsn_hash": "ab" * 32,
        "bsn_encrypted": "gAAAAA-token",
        "bsn_last3": "333",
        "period_start": date(2025, 3, 1),
        "period_end": date(2025, 3, 31),
        "hours_paid": Decimal("120.5"),
        "gross_wage": Decimal("1988.25"),
        "includes_holiday_allowance": True,
        "nationality": "UKR",
        "document_type": None,
        "paid_in_cash": None,
        "birth_date": date(1995, 3, 14),
        "source_reference": "row-1",
        "import_id": import_id,
        "imported_at": now,
        "updated_at": now,
        **extra,
    }


def test_plain_insert_stores_what_insert_stores(session: Session) -> None:
    run = PayrollImport(source="test", actor_id="test")
    session.add(run)
    session.flush()
    columns = [c.name for c in TABLE.columns]
    plain = _record(run.id)
    core = _record(run.id, bsn_hash="cd" * 32)
    insert_plain_rows(session, TABLE, [plain], columns)
    session.execute(insert(TABLE), [core])
    # The stored form, as the driver hands it back (no type processing on the way out).
    stored = {
        r[0]: r[1:]
        for r in session.connection().exec_driver_sql(
            f"SELECT bsn_hash, {', '.join(c for c in columns if c not in ('id', 'bsn_hash'))} "  # noqa: S608
            "FROM payroll_record"
        )
    }
    assert stored["ab" * 32] == stored["cd" * 32]
    ids = session.execute(select(TABLE.c.id).order_by(TABLE.c.bsn_hash)).scalars().all()
    assert ids == [plain["id"], core["id"]]
    # A duplicate key is SQLAlchemy's IntegrityError (the import retries the batch as updates).
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_plain_rows(session, TABLE, [_record(run.id)], columns)
    assert session.execute(select(TABLE.c.id)).scalars().all() != []


def test_corrections_and_repeats_are_counted(session: Session, settings: Settings) -> None:
    first, last = month(2025, 3)
    april = month(2025, 4)
    result = deliver(
        session,
        settings,
        [
            row("111222333", first, last, "160", "2640.00"),
            row("123456782", first, last, "120", "1980.00"),
            # The same key again in the same delivery: the later figures win.
            row("111222333", first, last, "160", "2700.00"),
            row("111222333", first, last, "160", "2700.00"),
        ],
    )
    assert result.counts == {"imported": 2, "updated": 1, "already_present": 1, "rejected": 0}
    again = deliver(
        session,
        settings,
        [
            row("111222333", first, last, "160", "2700.00"),
            row("123456782", first, last, "121", "1990.00", nationality="UKR"),
            row("123456782", *april, "100", "1650.00"),
        ],
    )
    assert again.counts == {"imported": 1, "updated": 1, "already_present": 1, "rejected": 0}
    stored = {
        (r.bsn_last3, r.period_start): r
        for r in session.execute(select(PayrollRecord)).scalars().all()
    }
    assert stored[("333", first)].gross_wage == Decimal("2700.00")
    corrected = stored[("782", first)]
    assert (corrected.hours_paid, corrected.gross_wage) == (Decimal("121"), Decimal("1990.00"))
    assert corrected.nationality == "UKR"
    assert corrected.import_id == again.import_id
    assert stored[("782", april[0])].id.version == 7


def test_cli_leaves_the_connection_as_it_found_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    settings = Settings(environment=Environment.TEST, database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = create_db_engine(url)
    with engine.connect() as connection:
        before = {
            n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in SQLITE_IMPORT_PRAGMAS
        }
    data = tmp_path / "payroll.csv"
    data.write_bytes(as_csv([row("111222333", *month(2024, m), "160", "2400.00") for m in (1, 2)]))
    thresholds = gc.get_threshold()
    summary = run_payroll_import(data, fmt="csv", settings=settings, engine=engine)
    assert summary["imported"] == 2
    assert gc.get_threshold() == thresholds
    with engine.connect() as connection:
        after = {
            n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in SQLITE_IMPORT_PRAGMAS
        }
        assert connection.execute(text("SELECT count(*) FROM payroll_record")).scalar() == 2
    assert after == before
    engine.dispose()


def test_batch_reads_only_the_records_with_its_keys(session: Session, settings: Settings) -> None:
    """A batch's look-up of stored records is bounded by the batch, not by the workers'
    history: a worker's other periods (and other employers' records) are not read."""
    other_lhn = "999996356L01"
    history = [row("111222333", *month(2024, m), "160", "2400.00") for m in range(1, 13)]
    history += [row("111222333", *month(2025, 1), "10", "160.00", lhn=other_lhn)]
    deliver(session, settings, history)
    january = month(2025, 1)
    keys = [
        (LHN, cipher_for(settings).keyed_hash("111222333"), *january),
        (LHN, cipher_for(settings).keyed_hash("123456782"), *january),
    ]
    assert session.execute(service._existing_among(session, keys)).all() == []
    keys.append((other_lhn, keys[0][1], *january))
    found = session.execute(service._existing_among(session, keys)).all()
    assert [(r.employer_lhn, r.period_start, r.gross_wage) for r in found] == [
        (other_lhn, january[0], Decimal("160.00"))
    ]
    # And the import still tells a repeat, a correction and a new record apart.
    result = deliver(
        session,
        settings,
        [
            row("111222333", *month(2024, 3), "160", "2400.00"),
            row("111222333", *january, "12", "192.00", lhn=other_lhn),
            row("111222333", *january, "160", "2400.00"),
        ],
    )
    assert result.counts == {"imported": 1, "updated": 1, "already_present": 1, "rejected": 0}
