"""The README's first notification, sent as written through the real API.

A new user who follows the tour posts a notification starting in the second half of 2026 with
a wage one cent under the minimum of 1 July 2026, and must get BELOW_MINIMUM_WAGE with the new
figure and its reference, and no "table may be out of date" finding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import EmployerWithKey

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_notification() -> dict[str, object]:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<<'JSON'\n(.*?)\nJSON\n", text, flags=re.S)
    assert match, "the README's tour has no JSON notification"
    body: dict[str, object] = json.loads(match.group(1))
    return body


def test_readme_notification_gets_the_new_minimum_and_its_reference(
    client: TestClient, employer: EmployerWithKey
) -> None:
    body = readme_notification()
    assert str(body["start_date"]) >= "2026-07-01"
    response = client.post(
        "/api/v1/notifications",
        json=body,
        headers={**employer.headers, "Idempotency-Key": "first-try"},
    )
    assert response.status_code == 201, response.text
    findings = {f["code"]: f for f in response.json()["findings"]}
    assert "MINIMUM_WAGE_TABLE_OUT_OF_DATE" not in findings
    below = findings["BELOW_MINIMUM_WAGE"]
    assert (
        "EUR 14.98 per hour is below the statutory minimum of EUR 14.99 per hour"
        in (below["message_en"])
    )
    assert "€ 14,99 per uur" in below["message_nl"]
    assert "out of date" not in below["message_en"]
    assert "not yet held" not in below["message_en"]
    assert "Wet minimumloon en minimumvakantiebijslag" in below["legal_basis"]
    (table,) = [p for p in below["parameters"] if p["name"] == "wml_hourly"]
    assert table["effective_from"] == "2026-07-01"
    assert "Staatscourant" in table["reference"]
    assert table["possibly_out_of_date"] is False


def readme_csv() -> bytes:
    match = re.search(r"<<'CSV'\n(.*?)\nCSV\n", README.read_text(encoding="utf-8"), flags=re.S)
    assert match, "the README's tour has no CSV file"
    return (match.group(1) + "\n").encode()


def test_readme_check_gives_the_findings_of_the_notification(
    client: TestClient, employer: EmployerWithKey
) -> None:
    text = README.read_text(encoding="utf-8")
    assert "$API/notifications/check" in text
    checked = client.post(
        "/api/v1/notifications/check", json=readme_notification(), headers=employer.headers
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["stored"] is False
    sent = client.post(
        "/api/v1/notifications", json=readme_notification(), headers=employer.headers
    )
    assert sent.json()["findings"] == checked.json()["findings"]


def test_readme_file_shows_the_conflict_and_the_flagged_row(
    client: TestClient, employer: EmployerWithKey
) -> None:
    headers = {**employer.headers, "Content-Type": "text/csv"}
    dry = client.post(
        "/api/v1/notifications/bulk?dry_run=true", content=readme_csv(), headers=headers
    )
    assert dry.status_code == 200, dry.text
    assert [r["status"] for r in dry.json()["rows"]] == ["checked", "conflict", "checked"]
    report = client.post("/api/v1/notifications/bulk", content=readme_csv(), headers=headers)
    rows = report.json()["rows"]
    assert [r["status"] for r in rows] == ["accepted", "conflict", "accepted"]
    assert rows[1]["worker_name"] == "Taras Melnyk"
    assert "BELOW_MINIMUM_WAGE" in {f["code"] for f in rows[2]["findings"]}
    again = client.post("/api/v1/notifications/bulk", content=readme_csv(), headers=headers)
    assert [r["status"] for r in again.json()["rows"]] == [
        "already_present",
        "conflict",
        "already_present",
    ]
