"""The flat CSV layout: mapping to the API shape, error column names, encodings, delimiters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from meldplicht.notifications import csv_format
from meldplicht.notifications.csv_format import (
    EMPLOYER_HEADER,
    TEMPLATE_HEADER,
    iter_records,
    parse_row,
    row_to_payload,
    template_csv,
)
from meldplicht.notifications.schemas import NotificationCreate


def example_row() -> dict[str, str]:
    reader = csv.DictReader(io.StringIO(template_csv()))
    return dict(next(reader))


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\r\n",
) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=TEMPLATE_HEADER, delimiter=delimiter, lineterminator=newline
    )
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def error_fields(result: object) -> dict[str, str]:
    assert isinstance(result, list), result
    return {e.field: e.code for e in result}


def test_header_has_the_documented_columns() -> None:
    assert TEMPLATE_HEADER[:3] == ["external_reference", "employer_kvk", "received_at"]
    for column in (
        "worker_bsn",
        "location_postcode",
        "location2_city",
        "housing_written_consent",
        "hirer_kvk_number",
        "declaration_truthful",
    ):
        assert column in TEMPLATE_HEADER
    assert "received_at" not in EMPLOYER_HEADER
    assert "employer_kvk" not in EMPLOYER_HEADER
    assert len(set(TEMPLATE_HEADER)) == len(TEMPLATE_HEADER)
    assert template_csv(for_import=False).splitlines()[0].split(",") == EMPLOYER_HEADER


def test_template_example_row_is_a_valid_notification() -> None:
    result = parse_row(example_row())
    assert isinstance(result, NotificationCreate)
    assert result.worker.bsn == "111222333"
    assert result.worker.given_names_original == "Олена"
    assert result.housing is not None
    assert result.housing.address is not None
    assert result.housing.address.postcode == "2671 CD"
    assert len(result.work_locations) == 1
    assert result.hirer is None


def test_row_to_payload_nests_and_drops_empty_cells() -> None:
    row = example_row() | {
        "worker_v_number": "",
        "location2_street": "Havenweg",
        "location2_house_number": "1",
        "location2_postcode": "3011ab",
        "location2_city": "Rotterdam",
        "housing_provided": "nee",
        "housing_street": "",
        "housing_house_number": "",
        "housing_postcode": "",
        "housing_city": "",
        "housing_monthly_deduction": "",
        "housing_written_consent": "",
        "housing_certified": "",
    }
    payload = row_to_payload(row)
    assert "v_number" not in payload["worker"]
    assert payload["housing"] == {"provided": False}
    assert payload["work_locations"][1] == {
        "street": "Havenweg",
        "house_number": "1",
        "postcode": "3011ab",
        "city": "Rotterdam",
    }
    assert "external_reference" not in payload
    assert "received_at" not in payload
    parsed = parse_row(row)
    assert isinstance(parsed, NotificationCreate)
    assert parsed.work_locations[1].postcode == "3011 AB"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("ja", True),
        ("Nee", False),
        ("yes", True),
        ("no", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
    ],
)
def test_booleans(cell: str, expected: bool) -> None:
    payload = row_to_payload(example_row() | {"wage_includes_holiday_allowance": cell})
    assert payload["wage"]["includes_holiday_allowance"] is expected


def test_decimal_comma_and_dutch_dates_are_read() -> None:
    row = example_row() | {"wage_amount": "16,50", "worker_birth_date": "14-03-1995"}
    parsed = parse_row(row)
    assert isinstance(parsed, NotificationCreate)
    assert str(parsed.wage.amount) == "16.50"
    assert parsed.worker.birth_date.isoformat() == "1995-03-14"


def test_errors_name_the_csv_columns() -> None:
    row = example_row() | {
        "worker_bsn": "123456789",
        "location_postcode": "1234 SS",
        "wage_amount": "veel",
        "declaration_truthful": "nee",
        "housing_provided": "misschien",
        "location2_city": "Delft",
        "signatory_name": "",
    }
    fields = error_fields(parse_row(row))
    assert fields == {
        "worker_bsn": "invalid_bsn",
        "location_postcode": "invalid_postcode",
        "wage_amount": "decimal_parsing",
        "declaration_truthful": "literal_error",
        "housing_provided": "bool_parsing",
        "location2_street": "missing",
        "location2_house_number": "missing",
        "location2_postcode": "missing",
        "signatory_name": "missing",
    }


def test_an_empty_required_group_names_every_cell_to_fill() -> None:
    # Issue 17: an empty work location (or declaration) names each missing cell at once.
    row = example_row() | {
        f"location_{p}": "" for p in ("street", "house_number", "postcode", "city")
    }
    row |= {"signatory_name": "", "declaration_truthful": ""}
    assert error_fields(parse_row(row)) == {
        f"location_{p}": "missing" for p in ("street", "house_number", "postcode", "city")
    } | {"signatory_name": "missing", "declaration_truthful": "missing"}
    assert csv_format.column_for("housing.address") == "housing_street"
    assert csv_format.column_for("worker.birth_date") == "worker_birth_date"
    assert csv_format.column_for("hirer") == "hirer_kvk_number"


def test_unknown_columns_are_reported() -> None:
    fields = error_fields(parse_row(example_row() | {"worker_bsnn": "1"}))
    assert fields == {"worker_bsnn": "unknown_column"}


def test_bom_semicolons_cyrillic_and_crlf(tmp_path: Path) -> None:
    row = example_row() | {
        "worker_surname_original": "Ковальчук-Ґудзь",
        "job_title": "Прибиральниця; schoonmaak",
        "wage_amount": "15,75",
    }
    path = write_csv(
        tmp_path / "in.csv",
        [row, row | {"external_reference": "HR-2"}],
        delimiter=";",
        encoding="utf-8-sig",
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    records = list(iter_records(path))
    assert [r.line for r in records] == [2, 3]
    first = records[0]
    assert first.meta["external_reference"] == "HR-2026-000123"
    assert isinstance(first.result, NotificationCreate)
    assert first.result.worker.surname_original == "Ковальчук-Ґудзь"
    assert first.result.job_title == "Прибиральниця; schoonmaak"
    assert str(first.result.wage.amount) == "15.75"


def test_comma_file_with_lf_and_a_multiline_cell(tmp_path: Path) -> None:
    row = example_row() | {"job_description": "Oogsten\nen inpakken"}
    path = write_csv(tmp_path / "in.csv", [row, row | {"external_reference": "HR-2"}], newline="\n")
    records = list(iter_records(path))
    assert [r.line for r in records] == [2, 4]
    assert isinstance(records[0].result, NotificationCreate)
    assert records[0].result.job_description == "Oogsten\nen inpakken"


def test_too_many_cells_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    good = ",".join(f'"{v}"' for v in example_row().values())
    path.write_text(",".join(TEMPLATE_HEADER) + "\n" + good + ",extra\n\n", encoding="utf-8")
    records = list(iter_records(path))
    assert len(records) == 1
    assert error_fields(records[0].result) == {"": "too_many_cells"}


def test_json_lines(tmp_path: Path) -> None:
    body = parse_row(example_row())
    assert isinstance(body, NotificationCreate)
    good = body.model_dump(mode="json") | {
        "external_reference": "J-1",
        "employer_kvk": "12345678",
        "received_at": "2026-08-31T10:15:00+02:00",
    }
    bad = json.loads(json.dumps(good)) | {"external_reference": "J-2"}
    bad["worker"]["bsn"] = "123456789"
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad) + "\n{oops\n",
        encoding="utf-8",
    )
    records = list(iter_records(path))
    assert isinstance(records[0].result, NotificationCreate)
    assert records[0].meta == {
        "external_reference": "J-1",
        "employer_kvk": "12345678",
        "received_at": "2026-08-31T10:15:00+02:00",
    }
    assert error_fields(records[1].result) == {"worker.bsn": "invalid_bsn"}
    assert error_fields(records[2].result) == {"": "json_invalid"}
    assert not records[1].errors_use_columns


def test_housing_certified_and_bbl_columns() -> None:
    payload = row_to_payload(example_row() | {"housing_certified": "nee", "bbl_student": "ja"})
    assert payload["housing"]["certified"] is False
    assert payload["bbl_student"] is True
    unstated = row_to_payload(example_row() | {"housing_certified": "", "bbl_student": ""})
    assert "certified" not in unstated["housing"]
    assert "bbl_student" not in unstated


def test_paid_in_cash_column() -> None:
    assert "paid_in_cash" in EMPLOYER_HEADER
    assert row_to_payload(example_row() | {"paid_in_cash": "ja"})["paid_in_cash"] is True
    assert row_to_payload(example_row() | {"paid_in_cash": "nee"})["paid_in_cash"] is False
    assert "paid_in_cash" not in row_to_payload(example_row() | {"paid_in_cash": ""})
