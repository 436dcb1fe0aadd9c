"""Issue 17 (2) on the page: a reused reference is a conflict, a flagged row shows its
findings and the worker's name, the fix file holds only the rows to fix and uploads again
as it is, and a dry run stores nothing. Before the fix the conflicting row read "already
notified" and the flagged row plain "accepted"."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlmodel import Session, func, select

from meldplicht.notifications.models import Notification
from tests.factories import VALID_BSNS
from tests.web.conftest import Web, csrf_from, csv_upload, form_values


def upload(web: Web, content: bytes, **extra: str) -> Any:
    token = csrf_from(web.client.get("/employer/bulk").text)
    response = web.client.post(
        "/employer/bulk",
        data={"csrf_token": token, **extra},
        files={"file": ("staff.csv", content, "text/csv")},
    )
    assert response.status_code == 200, response.text
    return response


def count(web: Web) -> int:
    with Session(web.engine) as session:
        return int(session.exec(select(func.count()).select_from(Notification)).one())


def first_file() -> list[dict[str, str]]:
    good = form_values()
    return [{**good, "external_reference": "R-1", "worker_bsn": VALID_BSNS[0]}]


def second_file() -> list[dict[str, str]]:
    good = form_values()
    return [
        # The same reference, another worker: a conflict.
        {
            **good,
            "external_reference": "R-1",
            "worker_bsn": VALID_BSNS[1],
            "worker_given_names": "Taras",
            "worker_surname": "Shevchenko",
        },
        # Paid far below the minimum: stored, with its finding.
        {
            **good,
            "external_reference": "R-2",
            "worker_bsn": VALID_BSNS[2],
            "wage_amount": "5,00",
            "worker_given_names": "Iryna",
            "worker_surname": "Bondar",
        },
        {**good, "external_reference": "R-3", "worker_bsn": VALID_BSNS[3]},
    ]


def test_conflict_flagged_row_and_fix_file(web: Web) -> None:
    web.login()
    upload(web, csv_upload(first_file()))
    assert count(web) == 1
    html = upload(web, csv_upload(second_file())).text
    assert count(web) == 3  # never the conflicting row
    conflict = re.search(r'<tr class="row--conflict" data-line="2">(.*?)</tr>', html, re.S)
    assert conflict, html
    assert "Taras Shevchenko" in conflict.group(1)
    assert "eerder gebruikt voor ontvangstnummer MP" in conflict.group(1)
    flagged = re.search(
        r'<tr class="row--accepted row--flagged" data-line="3">(.*?)</tr>', html, re.S
    )
    assert flagged, html
    assert "Iryna Bondar" in flagged.group(1)
    assert "wettelijk minimum" in flagged.group(1)
    assert "al eerder gemeld" not in html.split("<h2>")[1]  # the conflict is not "already notified"

    job = re.search(r'href="(/employer/bulk/[0-9a-f]+)/report\.csv"', html)
    assert job
    report = list(csv.DictReader(io.StringIO(web.client.get(f"{job.group(1)}/report.csv").text)))
    assert [r["status"] for r in report] == ["conflict", "accepted", "accepted"]
    assert report[1]["worker_name"] == "Iryna Bondar"
    assert "BELOW_MINIMUM_WAGE" in report[1]["findings"]
    assert "wettelijk minimum" in report[1]["findings"]  # Dutch session: Dutch messages
    assert "eerder gebruikt" in report[0]["errors"]

    fix = web.client.get(f"{job.group(1)}/fix.csv")
    assert fix.status_code == 200
    fix_rows = list(csv.DictReader(io.StringIO(fix.text)))
    assert [r["external_reference"] for r in fix_rows] == ["R-1", "R-2"]
    assert "eerder gebruikt" in fix_rows[0]["fix_reason"]
    assert "Opgeslagen als MP" in fix_rows[1]["fix_reason"]

    # Corrected (a reference of its own for Taras), the fix file uploads again as it is.
    fix_rows[0]["external_reference"] = "R-1b"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fix_rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(fix_rows)
    again = upload(web, out.getvalue().encode()).text
    assert re.search(r'<tr class="row--accepted" data-line="2">', again), again
    assert re.search(r'<tr class="row--already_present" data-line="3">', again), again
    assert count(web) == 4


def test_a_dry_run_stores_nothing(web: Web) -> None:
    web.login()
    upload(web, csv_upload(first_file()))
    html = upload(web, csv_upload(second_file()), dry_run="true").text
    assert count(web) == 1
    assert "er is niets opgeslagen" in html
    assert re.search(r'<tr class="row--conflict" data-line="2">', html)
    assert re.search(r'<tr class="row--checked row--flagged" data-line="3">', html)
    assert re.search(r'<tr class="row--checked" data-line="4">', html)
