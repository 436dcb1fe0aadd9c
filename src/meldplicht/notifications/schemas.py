"""Request and response bodies of the notification API (the legal content of a notice).

Structure only: types, formats and checksums. Whether the declared conditions meet the law is
the rules' job, and produces findings rather than errors.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from meldplicht.core.validation import BIRTH_DATES, DOCUMENT_DATES, LAW_DATES, clean_text
from meldplicht.rules import identifiers
from meldplicht.rules.facts import ContractType, WagePeriod


def _clean_text(value: str) -> str:
    return clean_text(value)


def _name(value: str) -> str:
    value = _clean_text(value)
    if not any(ch.isalpha() for ch in value):
        raise PydanticCustomError("invalid_name", "must contain at least one letter")
    return value


def _bsn(value: str) -> str:
    compact = identifiers.compact_bsn(value)
    if not identifiers.is_valid_bsn(compact):
        raise PydanticCustomError(
            "invalid_bsn", "is not a valid BSN (9 digits passing the 11-test)"
        )
    return compact


def _kvk(value: str) -> str:
    if not identifiers.is_valid_kvk(value):
        raise PydanticCustomError("invalid_kvk", "is not a valid KvK number (8 digits)")
    return value.replace(" ", "")


def _lhn(value: str) -> str:
    if not identifiers.is_valid_loonheffingennummer(value):
        raise PydanticCustomError(
            "invalid_loonheffingennummer",
            "is not a valid loonheffingennummer (9 digits passing the 11-test, L, 2 digits)",
        )
    return identifiers.compact_loonheffingennummer(value)


def _postcode(value: str) -> str:
    normalised = identifiers.normalise_postcode(value)
    if normalised is None:
        raise PydanticCustomError(
            "invalid_postcode", "is not a valid Dutch postcode (1234 AB; never SA, SD or SS)"
        )
    return normalised


def _v_number(value: str) -> str:
    if not identifiers.is_valid_v_number(value):
        raise PydanticCustomError("invalid_v_number", "is not a valid V-number (10 digits)")
    return value.replace(" ", "")


Text200 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_clean_text),
]
Text2000 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_clean_text),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_name),
]


def _documented(pattern: str, example: str) -> Any:
    # The checksum lives in the validator; the pattern tells clients (and fuzzers) the shape.
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


Bsn = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_bsn),
    _documented(r"^[0-9]{9}$", "111222333"),
]
KvkNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_kvk),
    _documented(r"^[0-9]{8}$", "12345678"),
]
Loonheffingennummer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_lhn),
    _documented(r"^[0-9]{9}L[0-9]{2}$", "123456782L01"),
]
Postcode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=10),
    AfterValidator(_postcode),
    _documented(r"^[1-9][0-9]{3} ?[A-Z]{2}$", "2671 AB"),
]
VNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_v_number),
    _documented(r"^[0-9]{10}$", "1234567890"),
]


def _nationality(value: str) -> str:
    if not identifiers.is_valid_nationality(value):
        raise PydanticCustomError(
            "invalid_nationality", "is not an ISO 3166-1 alpha-3 country code (e.g. UKR)"
        )
    return value


Nationality = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(_nationality),
]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_text(value: Any) -> Any:
    # Pydantic would read 0 or 1700000000 as a Unix time; a notice date is always YYYY-MM-DD.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise PydanticCustomError("date_format", "must be a date written as YYYY-MM-DD")
    return value.strip()


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
# Every date the law gives meaning to has a plausible range (core.validation): refused
# outside it, so that no date stored can make the rules' or the sweep's arithmetic overflow.
LawDate = Annotated[IsoDate, AfterValidator(LAW_DATES.validator())]
BirthDate = Annotated[IsoDate, AfterValidator(BIRTH_DATES.validator())]
DocumentDate = Annotated[IsoDate, AfterValidator(DOCUMENT_DATES.validator())]
CENT = Decimal("0.01")


def _two_places(value: Decimal) -> Decimal:
    # One spelling for every amount (38 and 38.0 are stored and shown as 38.00).
    return value.quantize(CENT)


Money = Annotated[
    Decimal, Field(gt=0, max_digits=10, decimal_places=2), AfterValidator(_two_places)
]
Hours = Annotated[
    Decimal, Field(gt=0, le=168, max_digits=5, decimal_places=2), AfterValidator(_two_places)
]
FulltimeHours = Annotated[
    Decimal, Field(gt=0, le=60, max_digits=4, decimal_places=2), AfterValidator(_two_places)
]
Deduction = Annotated[
    Decimal, Field(ge=0, max_digits=10, decimal_places=2), AfterValidator(_two_places)
]


class DocumentType(enum.StrEnum):
    STICKER = "sticker"
    O_DOCUMENT = "o_document"
    PASSPORT = "passport"
    OTHER = "other"


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNSPECIFIED = "X"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WorkerIn(_In):
    given_names: Name = Field(description="Given names in Latin script, as in the document.")
    surname: Name = Field(description="Surname in Latin script, as in the document.")
    given_names_original: Name | None = Field(None, description="Given names in Cyrillic.")
    surname_original: Name | None = Field(None, description="Surname in the original script.")
    birth_date: BirthDate
    sex: Sex
    nationality: Nationality = Field(description="ISO 3166-1 alpha-3, e.g. UKR.")
    bsn: Bsn = Field(description="Burgerservicenummer: 9 digits, 11-test.")
    v_number: VNumber | None = Field(None, description="Vreemdelingennummer (10 digits).")
    document_type: DocumentType | None = None
    document_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9\-]{4,30}$")]
        | None
    ) = None
    document_valid_until: DocumentDate | None = None


class WageIn(_In):
    amount: Money = Field(description="Gross wage, at most 2 decimals.")
    period: WagePeriod = Field(description="hour, week, four_weeks or month.")
    includes_holiday_allowance: bool = Field(
        False, description="True when the amount includes the 8% holiday allowance."
    )


class AddressIn(_In):
    street: Text200
    house_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ]
    postcode: Postcode
    city: Text200


class HousingIn(_In):
    provided: bool = Field(description="Does the employer provide housing?")
    address: AddressIn | None = None
    monthly_deduction: Deduction | None = None
    written_consent: bool = Field(
        False,
        description="The worker authorised the deduction in writing (a written power of "
        "attorney to pay the landlord from the wage; Besluit minimumloon art. 2a). Not stated "
        "counts as not given.",
    )
    certified: bool | None = Field(
        None,
        description="The housing meets the quality requirement of Besluit minimumloon art. 2a: "
        "certified under the housing standard of a collective agreement, or let by an approved "
        "housing corporation. Leave out if unknown; a deduction is then reported as not "
        "confirmed.",
    )


class HirerIn(_In):
    kvk_number: KvkNumber
    name: Text200


class DeclarationIn(_In):
    signatory_name: Name = Field(description="Who declares the notice truthful.")
    truthful: Literal[True] = Field(description="Must be true: the notice is made truthfully.")


class NotificationCreate(_In):
    """A notification (Regeling melding Wav art. 3(1)(d))."""

    worker: WorkerIn
    contract_type: ContractType
    start_date: LawDate
    end_date: LawDate | None = None
    job_title: Text200
    job_description: Text2000 | None = None
    hours_per_week: Hours | None = Field(
        None,
        description="Agreed hours per week. Leave out only when there are no fixed hours "
        "(on-call work): a wage per week, 4 weeks or month then cannot be checked.",
    )
    fulltime_hours_per_week: FulltimeHours | None = Field(
        None, description="The employer's normal full-time week (needed for wages before 2024)."
    )
    wage: WageIn
    cao: Text200 | None = None
    work_locations: list[AddressIn] = Field(min_length=1, max_length=50)
    housing: HousingIn | None = None
    bbl_student: bool | None = Field(
        None,
        description="The worker follows the beroepsbegeleidende leerweg (bbl, work-study) of "
        "vocational education. For ages 18-20 a lower minimum wage applies until 31 December "
        "2026. Leave out or false: the general youth scale.",
    )
    paid_in_cash: bool | None = Field(
        None,
        description="The wage is paid in cash, not into a bank account in the worker's own "
        "name. Wet minimumloon en minimumvakantiebijslag art. 7a requires the wage, up to the "
        "minimum wage, to be paid into such an account: true is a finding. Leave out: not "
        "stated.",
    )
    hirer: HirerIn | None = Field(None, description="The hirer, for agency and payroll work.")
    declaration: DeclarationIn


class NotificationChange(_In):
    """A change notice: only the fields that change, from an effective date."""

    effective_date: LawDate
    hours_per_week: Hours | None = None
    fulltime_hours_per_week: FulltimeHours | None = None
    wage: WageIn | None = None
    work_locations: list[AddressIn] | None = Field(None, min_length=1, max_length=50)
    end_date: LawDate | None = None
    job_title: Text200 | None = None
    job_description: Text2000 | None = None
    cao: Text200 | None = None
    housing: HousingIn | None = None
    bbl_student: bool | None = None
    paid_in_cash: bool | None = None
    hirer: HirerIn | None = Field(
        None, description="A new hirer (agency and payroll work); null removes it."
    )
    reason: Text2000 | None = None


class TerminationIn(_In):
    end_date: LawDate = Field(description="The last day of the employment.")
    reason: Text2000


class WithdrawalIn(_In):
    reason: Text2000


class FindingOut(BaseModel):
    code: str
    severity: str
    message: str = Field(description="In the language the request asked for (Accept-Language).")
    message_nl: str
    message_en: str
    legal_basis: str
    rule_version: str
    evidence: dict[str, Any]
    parameters: list[dict[str, Any]]


class WorkerOut(BaseModel):
    given_names: str
    surname: str
    given_names_original: str | None
    surname_original: str | None
    birth_date: date
    sex: str
    nationality: str
    bsn_masked: str
    # Not answered, like the BSN in full and the document number: the V-number is stored
    # encrypted and shown only in the data-subject export.
    document_type: str | None
    document_valid_until: date | None


class VersionOut(BaseModel):
    version: int
    kind: str
    channel: str
    received_at: datetime
    effective_date: date | None
    changes: dict[str, Any]
    reason: str | None
    declaration: dict[str, Any]
    findings: list[FindingOut]


class NotificationOut(BaseModel):
    id: uuid.UUID
    receipt_number: str = Field(description="Quote this number in any contact about the notice.")
    received_at: datetime
    notice_date: date = Field(description="The receipt date in Europe/Amsterdam.")
    notice_deadline: date = Field(description="Latest notice date that is on time for the start.")
    status: str
    termination_pending: bool = Field(
        False,
        description="A termination was notified for an end date still ahead: the notification "
        "stays active, and open to changes, until that date.",
    )
    version: int
    channel: str
    contract_type: str
    start_date: date
    end_date: date | None
    job_title: str
    job_description: str | None
    hours_per_week: Decimal | None
    fulltime_hours_per_week: Decimal | None
    wage: WageIn
    cao: str | None
    work_locations: list[dict[str, str]]
    housing: dict[str, Any] | None
    bbl_student: bool | None = None
    paid_in_cash: bool | None = None
    hirer: dict[str, str] | None
    signatory_name: str
    worker: WorkerOut
    findings: list[FindingOut] = Field(description="What the rules found in the current version.")


class NotificationDetail(NotificationOut):
    history: list[VersionOut]


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at end.")


class NotificationCheck(BaseModel):
    """What a notification would give if it were sent now; nothing is stored."""

    stored: Literal[False] = Field(False, description="Always false: a check stores nothing.")
    notice_date: date = Field(description="The receipt date it would have (Europe/Amsterdam).")
    notice_deadline: date = Field(description="Latest notice date that is on time for the start.")
    findings: list[FindingOut] = Field(
        description="Exactly the findings a notification sent now would be given."
    )
