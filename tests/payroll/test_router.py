"""POST /api/v1/payroll/imports: data partners only, CSV or JSON lines, per-row report."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.payroll.models import PayrollImport, PayrollRecord
from tests.conftest import EmployerWithKey
from tests.payroll.helpers import as_csv, as_ndjson, month, row

URL = "/api/v1/payroll/imports"


def partner(session: Session) -> dict[str, str]:
    token = issue_key(session, role=Role.DATA_PARTNER, name="payroll partner").token
    return {"Authorization": f"Bearer {token}"}


def rows() -> list[dict[str, str]]:
    first, last = month(2025, 3)
    return [
        row("111222333", first, last, "160", "2640.00", birth_date="1995-03-14"),
        row("123456782", first, last, "120.5", "1988.25", nationality="UKR"),
    ]


def test_csv_delivery_is_imported_and_idempotent(
    client: TestClient, session: Session, settings: Settings, employer: EmployerWithKey
) -> None:
    headers = {**partner(session), "Content-Type": "text/csv"}
    first = client.post(URL, content=as_csv(rows()), headers=headers)
    assert first.status_code == 201, first.text
    report = first.json()
    assert (report["total"], report["imported"], report["rejected"]) == (2, 2, 0)
    stored = session.exec(select(PayrollRecord)).all()
    assert {r.bsn_last3 for r in stored} == {"333", "782"}
    assert all(r.employer_id == employer.employer.id for r in stored)
    hashed = cipher_for(settings).keyed_hash("111222333")
    assert hashed in {r.bsn_hash for r in stored}
    assert all("111222333" not in r.bsn_encrypted for r in stored)
    again = client.post(URL, content=as_csv(rows()), headers=headers).json()
    assert (again["imported"], again["already_present"]) == (0, 2)
    assert len(session.exec(select(PayrollRecord)).all()) == 2
    assert len(session.exec(select(PayrollImport)).all()) == 2


def test_semicolon_csv_with_decimal_commas(client: TestClient, session: Session) -> None:
    body = (
        b"loonheffingennummer;bsn;period_start;period_end;hours_paid;gross_wage\n"
        b"123456782L01;111222333;2025-03-01;2025-03-31;120,5;1988,25\n"
    )
    headers = {**partner(session), "Content-Type": "text/csv; charset=utf-8"}
    report = client.post(URL, content=body, headers=headers).json()
    assert report["imported"] == 1, report
    record = session.exec(select(PayrollRecord)).one()
    assert (str(record.hours_paid), str(record.gross_wage)) == ("120.50", "1988.25")


def test_ndjson_with_rejected_rows_reports_every_error(
    client: TestClient, session: Session
) -> None:
    first, last = month(2025, 3)
    bad = [
        row("111222333", first, last, "160", "2640.00"),
        row("111222334", last, first, "160", "-1"),
        {"bsn": "123456782", "colour": "blue"},
    ]
    body = as_ndjson(bad) + b"not json\n"
    headers = {**partner(session), "Content-Type": "application/x-ndjson"}
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["imported"], report["rejected"]) == (1, 3)
    by_line = {r["line"]: {e["field"] for e in r["errors"]} for r in report["rejected_rows"]}
    assert by_line[2] >= {"bsn", "gross_wage"}
    assert by_line[3] >= {"loonheffingennummer", "colour", "period_start"}
    assert by_line[4] == {""}


def test_ndjson_line_with_a_duplicate_key_is_a_row_error(
    client: TestClient, session: Session
) -> None:
    first, last = month(2025, 3)
    good = as_ndjson([row("111222333", first, last, "160", "2640.00")])
    twice = (
        b'{"loonheffingennummer": "123456782L01", "bsn": "123456782", "bsn": "111222334",'
        b' "period_start": "2025-03-01", "period_end": "2025-03-31",'
        b' "hours_paid": "160", "gross_wage": "2640.00"}\n'
    )
    nested = (
        b'{"loonheffingennummer": "123456782L01", "bsn": "123456782",'
        b' "period_start": "2025-03-01", "period_end": "2025-03-31",'
        b' "hours_paid": "160", "gross_wage": "2640.00", "extra": {"a": 1, "a": 2}}\n'
    )
    body = good + twice + nested + as_ndjson([row("123456782", first, last, "120.5", "1988.25")])
    headers = {**partner(session), "Content-Type": "application/x-ndjson"}
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["total"], report["imported"], report["rejected"]) == (4, 2, 2)
    by_line = {r["line"]: r["errors"] for r in report["rejected_rows"]}
    assert set(by_line) == {2, 3}
    assert [e["code"] for e in by_line[2]] == ["json_duplicate_key"]
    assert "'bsn'" in by_line[2][0]["message"]
    assert "'bsn'" in by_line[2][0]["message_nl"]
    assert [e["code"] for e in by_line[3]] == ["json_duplicate_key"]
    stored = session.exec(select(PayrollRecord)).all()
    assert sorted(r.bsn_last3 for r in stored) == ["333", "782"]


def test_cross_field_errors(client: TestClient, session: Session) -> None:
    headers = {**partner(session), "Content-Type": "text/csv"}
    bad = [
        row("111222333", date(2025, 3, 1), date(2025, 4, 30), "160", "2640.00"),
        row("111222333", date(2021, 1, 1), date(2021, 1, 31), "160", "2640.00"),
        row("111222333", date(2025, 3, 1), date(2025, 3, 7), "200", "2640.00"),
    ]
    report = client.post(URL, content=as_csv(bad), headers=headers).json()
    codes = [e["code"] for r in report["rejected_rows"] for e in r["errors"]]
    assert codes == ["period_too_long", "before_protection_start", "hours_implausible"]


def test_employer_keys_are_refused(client: TestClient, employer: EmployerWithKey) -> None:
    headers = {**employer.headers, "Content-Type": "text/csv"}
    response = client.post(URL, content=as_csv(rows()), headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_other_media_types_and_empty_bodies(client: TestClient, session: Session) -> None:
    auth = partner(session)
    wrong = client.post(URL, content=b"{}", headers={**auth, "Content-Type": "application/json"})
    assert wrong.status_code == 415
    empty = client.post(URL, content=b"", headers={**auth, "Content-Type": "text/csv"})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["code"] == "empty_file"
