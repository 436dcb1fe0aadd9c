"""The admin import: each backend gets its own fresh database, because the importer commits."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from meldplicht.audit.models import AuditEvent
from meldplicht.core.config import Environment, Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.employers.schemas import EmployerCreate
from meldplicht.employers.service import create_employer
from meldplicht.notifications import flagging
from meldplicht.notifications.csv_format import TEMPLATE_HEADER, template_csv
from meldplicht.notifications.importer import run_import
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationVersion,
    Worker,
    WorkLocation,
)
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend

KVK = "12345678"


@pytest.fixture(params=["sqlite", "postgres"])
def import_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    backend: str = request.param
    require_backend(backend)
    name = f"meldplicht_import_{uuid.uuid4().hex[:12]}"
    url = f"sqlite:///{tmp_path / 'import.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as session, session.begin():
        create_employer(session, EmployerCreate(kvk_number=KVK, name="Kwekerij De Tuin B.V."))
    yield url, engine
    engine.dispose()
    if backend == "postgres":
        drop_postgres(name)


def settings_for(url: str) -> Settings:
    return Settings(environment=Environment.TEST, database_url=url, _env_file=None)


def example_row(**cells: str) -> dict[str, str]:
    row = dict(next(csv.DictReader(io.StringIO(template_csv()))))
    row.update(
        received_at="2024-05-06T09:30:00+02:00",
        start_date="2024-05-21",
        end_date="2024-11-30",
        wage_amount="14.50",
        housing_provided="nee",
        housing_street="",
        housing_house_number="",
        housing_postcode="",
        housing_city="",
        housing_monthly_deduction="",
        housing_written_consent="",
    )
    row.update(cells)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str = ";") -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(
            f, fieldnames=TEMPLATE_HEADER, delimiter=delimiter, lineterminator="\r\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_report(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["external_reference"]: row for row in csv.DictReader(f)}


def do_import(url: str, engine: Engine, file: Path, report: Path | None = None) -> dict[str, Any]:
    return run_import(
        file, report_path=report, show_progress=False, settings=settings_for(url), engine=engine
    )


def count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_good_and_bad_rows_with_report(import_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = import_db
    rows = [
        example_row(external_reference="A-1"),
        example_row(external_reference="A-2", worker_bsn="123456789", location_postcode="x"),
        example_row(external_reference="A-3", employer_kvk="99999999", worker_bsn="999996356"),
        example_row(external_reference="", worker_bsn="999993653"),
        example_row(
            external_reference="A-5", worker_bsn="999990019", contract_type="self_employed"
        ),
        example_row(external_reference="A-6", worker_bsn="999992002", received_at="gisteren"),
        example_row(
            external_reference="A-7",
            worker_bsn="123456782",
            worker_given_names="Олена",
            worker_surname="Ковальчук",
        ),
    ]
    report = tmp_path / "report.csv"
    summary = do_import(url, engine, write_csv(tmp_path / "in.csv", rows), report)
    assert summary["total"] == 7
    assert summary["imported"] == 2
    assert summary["rejected"] == 5
    assert summary["already_present"] == 0
    assert summary["seconds"] >= 0
    lines = read_report(report)
    assert lines["A-1"]["status"] == "accepted"
    assert lines["A-1"]["receipt_number"].startswith("MP24-")
    assert lines["A-1"]["line"] == "2"
    assert lines["A-2"]["status"] == "rejected"
    assert "worker_bsn: " in lines["A-2"]["errors"]
    assert "location_postcode: " in lines["A-2"]["errors"]
    assert "123456789" not in report.read_text(encoding="utf-8")  # no BSN in a report
    assert "employer_kvk: No employer with KvK number 99999999" in lines["A-3"]["errors"]
    assert lines[""]["errors"].startswith("external_reference: ")
    # The cross-field check in the service reports on the CSV column too.
    assert lines["A-5"]["errors"].startswith("contract_type: ")
    assert lines["A-6"]["errors"].startswith("received_at: ")
    assert lines["A-7"]["status"] == "accepted"
    assert count(engine, Notification) == 2


def test_received_at_is_kept_exactly(import_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = import_db
    rows = [
        example_row(external_reference="T-1", received_at="2024-05-06T09:30:12.345678+02:00"),
        # No offset: Amsterdam time (winter, so UTC+1).
        example_row(
            external_reference="T-2",
            worker_bsn="999996356",
            received_at="2024-01-08 23:45:00",
            start_date="2024-01-22",
        ),
        example_row(
            external_reference="T-3", worker_bsn="999993653", received_at="2024-05-06T07:30:00Z"
        ),
    ]
    summary = do_import(url, engine, write_csv(tmp_path / "in.csv", rows))
    assert summary["imported"] == 3
    with Session(engine) as session:
        stored = {n.external_reference: n for n in session.exec(select(Notification))}
        assert stored["T-1"].received_at == datetime(2024, 5, 6, 7, 30, 12, 345678, tzinfo=UTC)
        assert stored["T-2"].received_at == datetime(2024, 1, 8, 22, 45, tzinfo=UTC)
        assert stored["T-2"].notice_date.isoformat() == "2024-01-08"
        assert stored["T-3"].received_at == datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
        assert {n.channel for n in stored.values()} == {"import"}
        version = session.exec(
            select(NotificationVersion).where(
                NotificationVersion.notification_id == stored["T-1"].id
            )
        ).one()
        assert version.received_at == stored["T-1"].received_at
        actors = set(session.exec(select(AuditEvent.actor_id)))
        assert "cli:import" in actors


def test_rerun_is_idempotent(import_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = import_db
    rows = [
        example_row(external_reference="R-1"),
        example_row(external_reference="R-2", worker_bsn="999996356"),
        example_row(external_reference="R-3", worker_bsn="bad"),
    ]
    file = write_csv(tmp_path / "in.csv", rows)
    first = do_import(url, engine, file)
    assert (first["imported"], first["already_present"], first["rejected"]) == (2, 0, 1)
    report = tmp_path / "again.csv"
    second = do_import(url, engine, file, report)
    assert (second["imported"], second["already_present"], second["rejected"]) == (0, 2, 1)
    assert count(engine, Notification) == 2
    assert count(engine, NotificationVersion) == 2
    lines = read_report(report)
    assert lines["R-1"]["status"] == "already_present"
    assert lines["R-1"]["receipt_number"].startswith("MP24-")


def test_a_row_failing_half_way_leaves_nothing(
    import_db: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = import_db
    real = flagging.raise_flags_at_intake

    def failing(session: Session, notification: Notification, *args: Any, **kwargs: Any) -> None:
        # By now the worker, notification, version, location and findings are flushed.
        if notification.external_reference == "H-2":
            raise IntegrityError("INSERT INTO flag", {}, Exception("simulated failure"))
        real(session, notification, *args, **kwargs)

    monkeypatch.setattr(flagging, "raise_flags_at_intake", failing)
    rows = [
        example_row(external_reference="H-1"),
        example_row(external_reference="H-2", worker_bsn="999996356"),
        example_row(external_reference="H-3", worker_bsn="999993653"),
    ]
    report = tmp_path / "report.csv"
    summary = do_import(url, engine, write_csv(tmp_path / "in.csv", rows), report)
    assert (summary["imported"], summary["rejected"]) == (2, 1)
    assert read_report(report)["H-2"]["errors"].startswith("(row): The database refused")
    cipher = cipher_for(settings_for(url))
    with Session(engine) as session:
        refs = set(session.exec(select(Notification.external_reference)))
        assert refs == {"H-1", "H-3"}
        hashes = set(session.exec(select(Worker.bsn_hash)))
        assert cipher.keyed_hash("999996356") not in hashes
        assert len(hashes) == 2
        ids = list(session.exec(select(Notification.id)))
        for model in (NotificationVersion, NotificationFinding, WorkLocation):
            orphans = session.exec(
                select(func.count())
                .select_from(model)
                .where(col(model.notification_id).not_in(ids))
            ).one()
            assert orphans == 0


def test_the_rules_ran(import_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = import_db
    rows = [
        example_row(external_reference="L-1", received_at="2024-05-20T16:00:00+02:00"),
        example_row(external_reference="L-2", worker_bsn="999996356", wage_amount="9.00"),
        example_row(external_reference="L-3", worker_bsn="999993653"),
    ]
    do_import(url, engine, write_csv(tmp_path / "in.csv", rows))
    with Session(engine) as session:
        codes: dict[str, set[str]] = {}
        query = select(Notification.external_reference, NotificationFinding.code).join(
            NotificationFinding, col(NotificationFinding.notification_id) == col(Notification.id)
        )
        for reference, code in session.exec(query):
            codes.setdefault(reference or "", set()).add(code)
    assert "LATE_NOTICE" in codes["L-1"]
    assert "BELOW_MINIMUM_WAGE" in codes["L-2"]
    assert "L-3" not in codes


def test_json_lines(import_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = import_db
    path = tmp_path / "in.jsonl"
    body = {
        "external_reference": "J-1",
        "employer_kvk": KVK,
        "received_at": "2024-05-06T09:30:00+02:00",
        "worker": {
            "given_names": "Олена",
            "surname": "Kovalenko",
            "birth_date": "1995-03-14",
            "sex": "F",
            "nationality": "UKR",
            "bsn": "111222333",
        },
        "contract_type": "open_ended",
        "start_date": "2024-05-21",
        "job_title": "Inpakker",
        "hours_per_week": "32",
        "wage": {"amount": "14.00", "period": "hour"},
        "work_locations": [
            {
                "street": "Tuinbouwweg",
                "house_number": "12",
                "postcode": "2671AB",
                "city": "Naaldwijk",
            }
        ],
        "declaration": {"signatory_name": "Jan", "truthful": True},
    }
    line = json.dumps(body, ensure_ascii=False)
    bad = line.replace('"J-1"', '"J-2"').replace("111222333", "111222334")
    path.write_text(line + "\n" + bad + "\n", encoding="utf-8")
    report = tmp_path / "r.csv"
    summary = do_import(url, engine, path, report)
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    assert read_report(report)["J-2"]["errors"].startswith("worker.bsn: ")


def test_cli_import_notifications(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from meldplicht.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as session, session.begin():
        create_employer(session, EmployerCreate(kvk_number=KVK, name="Kwekerij De Tuin B.V."))
    engine.dispose()
    file = write_csv(
        tmp_path / "in.csv",
        [
            example_row(external_reference="C-1"),
            example_row(external_reference="C-2", worker_bsn="nope"),
        ],
        delimiter=",",
    )
    report = tmp_path / "report.csv"
    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", url)
    monkeypatch.setenv("MELDPLICHT_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["import-notifications", str(file), "--report", str(report)]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output  # a rejected row makes the exit status 2
    assert '"imported": 1' in result.output
    assert '"rejected": 1' in result.output
    assert read_report(report)["C-1"]["status"] == "accepted"


def test_a_row_starting_before_protection_began_is_a_start_date_error(
    import_db: tuple[str, Engine], tmp_path: Path
) -> None:
    """Work before 4 March 2022 falls outside the exemption: a row error naming the date."""
    url, engine = import_db
    rows = [
        example_row(
            external_reference="E-2",
            worker_bsn="999996356",
            start_date="2022-03-01",
            end_date="2022-12-31",
        ),
    ]
    report = tmp_path / "report.csv"
    do_import(url, engine, write_csv(tmp_path / "early.csv", rows), report)
    lines = read_report(report)
    assert lines["E-2"]["errors"].startswith("start_date: "), lines["E-2"]
    assert "4 March 2022" in lines["E-2"]["errors"]


def test_a_row_before_4_march_2022_is_a_row_error_and_the_rest_is_kept(
    import_db: tuple[str, Engine], tmp_path: Path
) -> None:
    # Issue 17: this row used to crash the run (ParameterError), losing its batch and the rest.
    url, engine = import_db
    rows = [
        example_row(external_reference="OLD-1"),
        example_row(
            external_reference="OLD-2",
            worker_bsn="123456782",
            received_at="2022-02-28T09:00:00+01:00",
            start_date="2022-03-14",
            end_date="",
        ),
        example_row(external_reference="OLD-3", worker_bsn="999996356"),
    ]
    summary = do_import(url, engine, write_csv(tmp_path / "old.csv", rows), tmp_path / "r.csv")
    assert summary["imported"] == 2
    assert summary["rejected"] == 1
    [bad] = summary["rejected_rows"]
    assert bad["line"] == 3
    assert bad["external_reference"] == "OLD-2"
    assert {e["code"] for e in bad["errors"]} >= {"received_before_protection"}
    assert count(engine, Notification) == 2
    assert read_report(tmp_path / "r.csv")["OLD-2"]["status"] == "rejected"


def test_the_help_documents_the_file_format() -> None:
    from meldplicht.cli import app

    result = CliRunner().invoke(app, ["import-notifications", "--help"], terminal_width=120)
    assert result.exit_code == 0
    for word in ("external_reference", "employer_kvk", "received_at", "4 March 2022", "line"):
        assert word in result.output


def _cli_import(url: str, file: Path, report: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from meldplicht.cli import app

    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", url)
    monkeypatch.setenv("MELDPLICHT_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["import-notifications", str(file), "--report", str(report)])
    finally:
        get_settings.cache_clear()


def test_a_reference_reused_for_another_worker_is_a_conflict_not_already_present(
    import_db: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = import_db
    first = write_csv(
        tmp_path / "first.csv",
        [
            example_row(external_reference="K-1"),
            example_row(external_reference="K-2", worker_bsn="999996356"),
        ],
    )
    done = _cli_import(url, first, tmp_path / "first-report.csv", monkeypatch)
    assert done.exit_code == 0, done.output
    stored = read_report(tmp_path / "first-report.csv")
    second = write_csv(
        tmp_path / "second.csv",
        [
            example_row(external_reference="K-1"),  # the same notice again: a replay
            # K-2 again, but for another worker: never "already notified".
            example_row(external_reference="K-2", worker_bsn="999993653"),
            example_row(external_reference="K-3", worker_bsn="999990019"),
        ],
    )
    report = tmp_path / "second-report.csv"
    result = _cli_import(url, second, report, monkeypatch)
    assert result.exit_code == 2, result.output  # a conflicted row makes the exit status 2
    summary = json.loads(result.output)
    assert (summary["imported"], summary["already_present"]) == (1, 1)
    assert (summary["conflict"], summary["rejected"]) == (1, 0)
    assert [r["external_reference"] for r in summary["conflict_rows"]] == ["K-2"]
    assert summary["conflict_rows"][0]["errors"][0]["code"] == "reference_conflict"
    lines = read_report(report)
    assert lines["K-1"]["status"] == "already_present"
    assert lines["K-1"]["receipt_number"] == stored["K-1"]["receipt_number"]
    assert lines["K-2"]["status"] == "conflict"
    assert lines["K-2"]["receipt_number"] == ""
    assert stored["K-2"]["receipt_number"] in lines["K-2"]["errors"]
    assert "another worker" in lines["K-2"]["errors"]
    assert lines["K-3"]["status"] == "accepted"
    assert count(engine, Notification) == 3  # K-1, K-2 (the first one), K-3
    bsn_hash = cipher_for(settings_for(url)).keyed_hash("999996356")
    with Session(engine) as session:
        k2 = session.exec(
            select(Notification).where(Notification.external_reference == "K-2")
        ).one()
        worker = session.get(Worker, k2.worker_id)
        assert worker is not None
        assert worker.bsn_hash == bsn_hash  # the stored K-2 is untouched


def test_other_terms_under_a_stored_reference_are_a_conflict(
    import_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = import_db
    do_import(url, engine, write_csv(tmp_path / "a.csv", [example_row(external_reference="T-1")]))
    changed = write_csv(
        tmp_path / "b.csv", [example_row(external_reference="T-1", wage_amount="15.00")]
    )
    summary = do_import(url, engine, changed)
    assert (summary["imported"], summary["already_present"], summary["conflict"]) == (0, 0, 1)
    assert count(engine, Notification) == 1


def test_the_same_file_again_is_a_replay_with_exit_status_0(
    import_db: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = import_db
    file = write_csv(
        tmp_path / "in.csv",
        [
            example_row(external_reference="S-1"),
            example_row(external_reference="S-2", worker_bsn="999996356"),
        ],
    )
    assert _cli_import(url, file, tmp_path / "r1.csv", monkeypatch).exit_code == 0
    again = _cli_import(url, file, tmp_path / "r2.csv", monkeypatch)
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert (summary["imported"], summary["already_present"], summary["conflict"]) == (0, 2, 0)
    assert count(engine, Notification) == 2
