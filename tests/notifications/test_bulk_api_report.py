"""Issue 17 (2) through the bulk API, on SQLite and PostgreSQL: a reused reference for another
worker is a conflict (it used to be "already_present" with the other row's receipt), the same
content is a replay, rows carry findings and the worker's name, a dry run stores nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from meldplicht.notifications.models import Notification
from tests.conftest import EmployerWithKey
from tests.factories import VALID_BSNS
from tests.web.conftest import csv_upload, form_values

URL = "/api/v1/notifications/bulk"


def send(client: TestClient, who: EmployerWithKey, rows: list[dict[str, str]], **q: str) -> Any:
    response = client.post(
        URL,
        params=q,
        content=csv_upload(rows),
        headers={**who.headers, "Content-Type": "text/csv", "Accept-Language": "nl"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def stored(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Notification)).one())


def test_conflict_replay_findings_and_dry_run(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    good = form_values()
    first = {**good, "external_reference": "A-1", "worker_bsn": VALID_BSNS[0]}
    report = send(client, employer, [first])
    assert report["rows"][0]["status"] == "accepted"
    receipt = report["rows"][0]["receipt_number"]

    other = {**first, "worker_bsn": VALID_BSNS[1], "worker_surname": "Melnyk"}
    low = {**good, "external_reference": "A-2", "worker_bsn": VALID_BSNS[2], "wage_amount": "5"}
    checked = send(client, employer, [first, other, low], dry_run="true")
    assert checked["dry_run"] is True
    assert [r["status"] for r in checked["rows"]] == ["already_present", "conflict", "checked"]
    assert checked["flagged"] == 1
    assert stored(session) == 1

    report = send(client, employer, [first, other, low])
    rows = report["rows"]
    assert [r["status"] for r in rows] == ["already_present", "conflict", "accepted"]
    assert rows[0]["receipt_number"] == receipt
    assert rows[1]["receipt_number"] is None
    assert rows[1]["notification_id"] is None
    assert rows[1]["worker_name"].endswith("Melnyk")
    assert rows[1]["errors"][0]["code"] == "reference_conflict"
    assert receipt in rows[1]["errors"][0]["message"]
    assert rows[1]["errors"][0]["message"].startswith("Dit kenmerk")  # Accept-Language: nl
    below = {f["code"]: f for f in rows[2]["findings"]}["BELOW_MINIMUM_WAGE"]
    assert below["severity"] == "high"
    assert "wettelijk minimum" in below["message"]
    assert checked["rows"][2]["findings"] == rows[2]["findings"]  # the dry run said the same
    assert (report["conflict"], report["flagged"], report["accepted"]) == (1, 1, 1)
    assert stored(session) == 2
