"""The flat CSV (and JSON lines) layout of a notification, shared by the import and bulk upload."""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from meldplicht.core.clock import legal_date, utcnow
from meldplicht.core.errors import FieldError
from meldplicht.notifications import validation
from meldplicht.notifications.schemas import NotificationCreate

# Columns that describe the row rather than the notice. employer_kvk and received_at are
# accepted only by the admin import: an employer can never choose its own receipt instant.
# fix_reason is the column the bulk "fix file" adds: a corrected fix file uploads as it is.
FIX_REASON_COLUMN = "fix_reason"
META_COLUMNS = ("external_reference", "employer_kvk", "received_at", FIX_REASON_COLUMN)
IMPORT_ONLY_COLUMNS = ("employer_kvk", "received_at")

_ADDRESS_PARTS = ("street", "house_number", "postcode", "city")

# CSV column -> dotted path in NotificationCreate, in template order.
COLUMN_PATHS: dict[str, str] = {
    "worker_given_names": "worker.given_names",
    "worker_surname": "worker.surname",
    "worker_given_names_original": "worker.given_names_original",
    "worker_surname_original": "worker.surname_original",
    "worker_birth_date": "worker.birth_date",
    "worker_sex": "worker.sex",
    "worker_nationality": "worker.nationality",
    "worker_bsn": "worker.bsn",
    "worker_v_number": "worker.v_number",
    "worker_document_type": "worker.document_type",
    "worker_document_number": "worker.document_number",
    "worker_document_valid_until": "worker.document_valid_until",
    "contract_type": "contract_type",
    "start_date": "start_date",
    "end_date": "end_date",
    "job_title": "job_title",
    "job_description": "job_description",
    "hours_per_week": "hours_per_week",
    "fulltime_hours_per_week": "fulltime_hours_per_week",
    "wage_amount": "wage.amount",
    "wage_period": "wage.period",
    "wage_includes_holiday_allowance": "wage.includes_holiday_allowance",
    "cao": "cao",
    **{f"location_{part}": f"work_locations.0.{part}" for part in _ADDRESS_PARTS},
    **{f"location2_{part}": f"work_locations.1.{part}" for part in _ADDRESS_PARTS},
    "housing_provided": "housing.provided",
    **{f"housing_{part}": f"housing.address.{part}" for part in _ADDRESS_PARTS},
    "housing_monthly_deduction": "housing.monthly_deduction",
    "housing_written_consent": "housing.written_consent",
    "housing_certified": "housing.certified",
    "bbl_student": "bbl_student",
    # Optional: ja = the wage is paid in cash (a finding, WML art. 7a); empty = not stated.
    "paid_in_cash": "paid_in_cash",
    "hirer_kvk_number": "hirer.kvk_number",
    "hirer_name": "hirer.name",
    "signatory_name": "declaration.signatory_name",
    "declaration_truthful": "declaration.truthful",
}
PATH_COLUMNS: dict[str, str] = {path: column for column, path in COLUMN_PATHS.items()}
# Errors about a whole group (a missing object, a cross-field rule) land on its first column.
_GROUP_COLUMNS: dict[str, str] = {
    "worker": "worker_given_names",
    "wage": "wage_amount",
    "work_locations": "location_street",
    "work_locations.0": "location_street",
    "work_locations.1": "location2_street",
    "housing": "housing_provided",
    "housing.address": "housing_street",
    "hirer": "hirer_kvk_number",
    "declaration": "declaration_truthful",
}

_REQUIRED_GROUPS: tuple[tuple[str, Any], ...] = (
    ("worker", {}),
    ("wage", {}),
    ("work_locations", [{}]),
    ("declaration", {}),
)

TEMPLATE_HEADER: list[str] = ["external_reference", *IMPORT_ONLY_COLUMNS, *COLUMN_PATHS]
EMPLOYER_HEADER: list[str] = [c for c in TEMPLATE_HEADER if c not in IMPORT_ONLY_COLUMNS]

_BOOLEAN_COLUMNS = frozenset(
    {
        "wage_includes_holiday_allowance",
        "housing_provided",
        "housing_written_consent",
        "housing_certified",
        "bbl_student",
        "paid_in_cash",
        "declaration_truthful",
    }
)
_NUMBER_COLUMNS = frozenset(
    {"hours_per_week", "fulltime_hours_per_week", "wage_amount", "housing_monthly_deduction"}
)
_DATE_COLUMNS = frozenset(
    {"worker_birth_date", "worker_document_valid_until", "start_date", "end_date"}
)
_TRUE = frozenset({"ja", "j", "yes", "y", "true", "waar", "1"})
_FALSE = frozenset({"nee", "n", "no", "false", "onwaar", "0"})
# Spreadsheets set to Dutch write 16,50 and 14-03-1995; we read both unambiguous forms.
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")

_EXAMPLE: dict[str, str] = {
    "external_reference": "HR-2026-000123",
    "employer_kvk": "12345678",
    "received_at": "2026-08-31T10:15:00+02:00",
    "worker_given_names": "Olena",
    "worker_surname": "Kovalenko",
    "worker_given_names_original": "Олена",
    "worker_surname_original": "Коваленко",
    "worker_birth_date": "1995-03-14",
    "worker_sex": "F",
    "worker_nationality": "UKR",
    "worker_bsn": "111222333",
    "worker_v_number": "1234567890",
    "worker_document_type": "o_document",
    "worker_document_number": "OX1234567",
    "worker_document_valid_until": "2027-03-04",
    "contract_type": "fixed_term",
    "start_date": "2026-09-07",
    "end_date": "2026-12-31",
    "job_title": "Productiemedewerker",
    "job_description": "Oogsten en inpakken van tomaten",
    "hours_per_week": "38",
    "fulltime_hours_per_week": "38",
    "wage_amount": "15.20",
    "wage_period": "hour",
    "wage_includes_holiday_allowance": "nee",
    "cao": "CAO Glastuinbouw",
    "location_street": "Tuinbouwweg",
    "location_house_number": "12",
    "location_postcode": "2671 AB",
    "location_city": "Naaldwijk",
    "housing_provided": "ja",
    "housing_street": "Dorpsstraat",
    "housing_house_number": "5a",
    "housing_postcode": "2671 CD",
    "housing_city": "Naaldwijk",
    "housing_monthly_deduction": "350.00",
    "housing_written_consent": "ja",
    "housing_certified": "ja",
    "signatory_name": "Jan de Vries",
    "declaration_truthful": "ja",
}


def template_csv(*, for_import: bool = True) -> str:
    """The header and one example row (comma-separated, UTF-8); without the import-only
    columns when `for_import` is false (the employer's bulk upload)."""
    header = TEMPLATE_HEADER if for_import else EMPLOYER_HEADER
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow([_EXAMPLE.get(column, "") for column in header])
    return out.getvalue()


def normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def _cell(column: str, raw: str) -> Any:
    value = raw.strip()
    if column in _BOOLEAN_COLUMNS:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return value  # pydantic reports it as not a boolean
    if column in _NUMBER_COLUMNS and _DECIMAL_COMMA.match(value):
        return value.replace(",", ".")
    if column in _DATE_COLUMNS:
        match = _DUTCH_DATE.match(value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = target
    for part, following in itertools.pairwise(parts):
        if part.isdigit():
            index = int(part)
            # A second location without a first keeps its position: the first becomes an
            # empty object whose missing fields are reported on the location_* columns.
            while len(node) <= index:
                node.append({})
            node = node[index]
        else:
            node = node.setdefault(part, [] if following.isdigit() else {})
    node[parts[-1]] = value


def row_to_payload(row: dict[str, str]) -> dict[str, Any]:
    """A NotificationCreate-shaped dict from one CSV row (keys are column names).

    Empty cells are left out, so an optional group whose cells are all empty (a second work
    location, housing, hirer) is absent rather than half-filled. Unknown and meta columns
    are ignored here (see `parse_row`).
    """
    payload: dict[str, Any] = {}
    for column, path in COLUMN_PATHS.items():
        raw = row.get(column)
        if raw is None or not raw.strip():
            continue
        _put(payload, path, _cell(column, raw))
    return payload


def column_for(path: str) -> str:
    """The CSV column for a dotted NotificationCreate path (a FieldError.field)."""
    if path in PATH_COLUMNS:
        return PATH_COLUMNS[path]
    parts = path.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in _GROUP_COLUMNS:
            return _GROUP_COLUMNS[candidate]
        if candidate in PATH_COLUMNS:
            return PATH_COLUMNS[candidate]
        parts.pop()
    return path


def to_columns(errors: list[FieldError]) -> list[FieldError]:
    """The same errors, with each field renamed to the CSV column it came from."""
    return [e.model_copy(update={"field": column_for(e.field)}) for e in errors]


def parse_row(
    row: dict[str, str], received_on: date | None = None
) -> NotificationCreate | list[FieldError]:
    """Validate one CSV row received on `received_on` (default today): every error at once
    (`validation.validate_notice`), each naming its CSV column (worker_bsn, location_postcode)."""
    unknown = [
        FieldError(
            field=column,
            code="unknown_column",
            message="This column is not part of the notification layout.",
            message_nl="Deze kolom hoort niet bij het meldingsformaat.",
        )
        for column in row
        if column not in COLUMN_PATHS and column not in META_COLUMNS
    ]
    payload = row_to_payload(row)
    # A required group left wholly empty is one error per required column, not one for the
    # group: the form and the file then name every cell to fill in at once.
    for name, empty in _REQUIRED_GROUPS:
        payload.setdefault(name, copy.deepcopy(empty))
    result = validation.validate_notice(payload, received_on or legal_date(utcnow()))
    if isinstance(result, list):
        return unknown + to_columns(result)
    return unknown or result


def parse_object(
    obj: Any, received_on: date | None = None
) -> NotificationCreate | list[FieldError]:
    """Validate one JSON-lines object (meta keys removed); errors keep their dotted paths."""
    if not isinstance(obj, dict):
        return [
            FieldError(
                field="",
                code="model_type",
                message="Each line must be one JSON object.",
                message_nl="Elke regel moet één JSON-object zijn.",
            )
        ]
    body = {k: v for k, v in obj.items() if k not in META_COLUMNS}
    return validation.validate_notice(body, received_on or legal_date(utcnow()))


# --- reading files --------------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """One row of an input file: where it is, its meta cells and the validated notice."""

    line: int
    meta: dict[str, str]
    result: NotificationCreate | list[FieldError]
    errors_use_columns: bool = True
    cells: dict[str, str] = field(default_factory=dict)  # the row as read (CSV only)

    @property
    def worker_name(self) -> str | None:
        """The worker's name as the row gives it, also when the row is refused."""
        if not isinstance(self.result, list):
            return f"{self.result.worker.given_names} {self.result.worker.surname}"
        name = " ".join(
            self.cells.get(c, "").strip() for c in ("worker_given_names", "worker_surname")
        ).strip()
        return name or None


FileFormat = Literal["csv", "jsonl"]


def detect_format(path: Path) -> FileFormat:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    with path.open(encoding="utf-8-sig") as f:
        for line in f:
            if line.strip():
                return "jsonl" if line.lstrip().startswith("{") else "csv"
    return "csv"


def sniff_delimiter(header_line: str) -> str:
    """`;` (what Excel writes in a Dutch locale), tab or `,`: whichever the header uses most."""
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _meta_of(values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in META_COLUMNS:
        value = values.get(key)
        if value is not None and str(value).strip():
            out[key] = str(value).strip()
    return out


def iter_csv(path: Path) -> Iterator[Record]:
    """Stream the rows of a CSV file (UTF-8 with or without BOM, any line ending)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        header_line = f.readline()
        delimiter = sniff_delimiter(header_line)
        f.seek(0)
        # Re-read the header through the csv module: a quoted header cell may hold a newline.
        reader = csv.reader(f, delimiter=delimiter)
        header_row = next(reader, None)
        if header_row is None:
            return
        header = [normalise_column(h) for h in header_row]
        previous_end = reader.line_num
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines (often at the end of a spreadsheet export)
            yield _csv_record(line, header, cells)


def _csv_record(line: int, header: list[str], cells: list[str]) -> Record:
    row = {column: cells[i] if i < len(cells) else "" for i, column in enumerate(header)}
    surplus = [c for c in cells[len(header) :] if c.strip()]
    result = parse_row(row)
    if surplus:
        too_many = FieldError(
            field="",
            code="too_many_cells",
            message=f"The row has {len(cells)} cells but the header only {len(header)}.",
            message_nl=f"De regel heeft {len(cells)} cellen, de kopregel {len(header)}.",
        )
        result = [too_many, *(result if isinstance(result, list) else [])]
    return Record(line=line, meta=_meta_of(row), result=result, cells=row)


def iter_jsonl(path: Path) -> Iterator[Record]:
    """Stream the objects of a JSON-lines file, one notification per line."""
    with path.open(encoding="utf-8-sig") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                error = FieldError(
                    field="",
                    code="json_invalid",
                    message=f"Not valid JSON: {exc.msg} (column {exc.colno}).",
                    message_nl="De JSON is ongeldig.",
                )
                yield Record(line=number, meta={}, result=[error], errors_use_columns=False)
                continue
            meta = _meta_of(obj) if isinstance(obj, dict) else {}
            yield Record(line=number, meta=meta, result=parse_object(obj), errors_use_columns=False)


def iter_records(path: Path) -> Iterator[Record]:
    """Every row of a CSV or JSON-lines file, streamed, whichever the file is."""
    if detect_format(path) == "jsonl":
        return iter_jsonl(path)
    return iter_csv(path)
