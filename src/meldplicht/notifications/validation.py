"""The structural checks of a notice that need more than one field, and merging field errors.

Every problem of a notice is reported at once (DECISIONS §7): the field errors of the schema,
the checks that span fields and the eligibility refusals, on a valid notice or on whatever
parts of a body that failed validation can be read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from meldplicht.core.errors import FieldError
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.notifications.schemas import (
    Deduction,
    Hours,
    IsoDate,
    NotificationCreate,
)
from meldplicht.rules.checks.base import date_en, date_nl
from meldplicht.rules.facts import (
    EMPLOYMENT_CONTRACTS,
    ContractType,
)
from meldplicht.rules.protection import protection_start


@dataclass(frozen=True, slots=True)
class _Known:
    """What the cross-field checks read, each None when it is not known: not given, or given
    but structurally wrong (that error is reported on its own field already)."""

    contract_type: ContractType | None
    start_date: date | None
    end_date: date | None
    birth_date: date | None
    hours_per_week: Decimal | None
    hirer_given: bool | None
    housing_provided: bool | None
    housing_address_given: bool | None
    housing_deduction: Decimal | None
    document_valid_until: date | None
    document_type_given: bool | None


def _known_of_payload(payload: NotificationCreate) -> _Known:
    housing = payload.housing
    return _Known(
        contract_type=payload.contract_type,
        start_date=payload.start_date,
        end_date=payload.end_date,
        birth_date=payload.worker.birth_date,
        hours_per_week=payload.hours_per_week,
        hirer_given=payload.hirer is not None,
        housing_provided=housing.provided if housing is not None else None,
        housing_address_given=housing.address is not None if housing is not None else None,
        housing_deduction=housing.monthly_deduction if housing is not None else None,
        document_valid_until=payload.worker.document_valid_until,
        document_type_given=payload.worker.document_type is not None,
    )


_DATE: TypeAdapter[date] = TypeAdapter(IsoDate)
_CONTRACT: TypeAdapter[ContractType] = TypeAdapter(ContractType)
_HOURS: TypeAdapter[Decimal] = TypeAdapter(Hours)
_DEDUCTION: TypeAdapter[Decimal] = TypeAdapter(Deduction)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)


def _read(adapter: TypeAdapter[Any], value: Any) -> Any:
    """The value as the schema reads it, or None when absent or structurally wrong."""
    if value is None:
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _given(container: dict[str, Any], name: str) -> bool:
    return container.get(name) is not None


def _known_of_body(body: Any) -> _Known:
    """The same view of a body that failed validation: every part that can be read is."""
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    worker = top.get("worker") if isinstance(top.get("worker"), dict) else {}
    housing = top.get("housing") if isinstance(top.get("housing"), dict) else None
    assert worker is not None
    return _Known(
        contract_type=_read(_CONTRACT, top.get("contract_type")),
        start_date=_read(_DATE, top.get("start_date")),
        end_date=_read(_DATE, top.get("end_date")),
        birth_date=_read(_DATE, worker.get("birth_date")),
        hours_per_week=_read(_HOURS, top.get("hours_per_week")),
        # A hirer given but malformed is reported on its own fields, not as missing.
        hirer_given=_given(top, "hirer") if isinstance(body, dict) else None,
        housing_provided=_read(_BOOL, housing.get("provided")) if housing else None,
        housing_address_given=_given(housing, "address") if housing else None,
        housing_deduction=_read(_DEDUCTION, housing.get("monthly_deduction")) if housing else None,
        document_valid_until=_read(_DATE, worker.get("document_valid_until")),
        document_type_given=_given(worker, "document_type"),
    )


def validate_notice(body: Any, received_on: date) -> NotificationCreate | list[FieldError]:
    """Every problem of a notice body at once (DECISIONS §7): the structural field errors,
    the checks that span fields and the eligibility refusals (no employment contract, work
    before 4 March 2022), in one list; the notice itself when there is none."""
    try:
        payload = NotificationCreate.model_validate(body)
    except ValidationError as exc:
        return merge_errors(
            field_errors_from_pydantic(exc.errors()), body_cross_field_errors(body, received_on)
        )
    return cross_field_errors(payload, received_on) or payload


def body_cross_field_errors(body: Any, received_on: date) -> list[FieldError]:
    """`cross_field_errors` of a body that did not validate, on the parts that can be read."""
    return _cross_field_errors(_known_of_body(body), received_on)


def merge_errors(*groups: Sequence[FieldError]) -> list[FieldError]:
    """The errors of every group in order, each (field, code) once."""
    seen: set[tuple[str, str]] = set()
    out: list[FieldError] = []
    for group in groups:
        for error in group:
            if (error.field, error.code) not in seen:
                seen.add((error.field, error.code))
                out.append(error)
    return out


def cross_field_errors(payload: NotificationCreate, received_on: date) -> list[FieldError]:
    """Checks that need two fields at once; every one is reported, not only the first."""
    return _cross_field_errors(_known_of_payload(payload), received_on)


def _cross_field_errors(known: _Known, received_on: date) -> list[FieldError]:
    errors: list[FieldError] = []

    def add(field: str, code: str, en: str, nl: str) -> None:
        errors.append(FieldError(field=field, code=code, message=en, message_nl=nl))

    if known.contract_type is not None and known.contract_type not in EMPLOYMENT_CONTRACTS:
        add(
            "contract_type",
            "not_an_employment_contract",
            "The exemption from the work permit covers only work on an employment contract "
            "(Besluit uitvoering Wav 2022 art. 6.5(1)). Self-employed work or an assignment "
            "needs a work permit (TWV): this cannot be notified.",
            "De vrijstelling van de tewerkstellingsvergunning geldt alleen voor werk op een "
            "arbeidsovereenkomst (art. 6.5 lid 1 Besluit uitvoering Wav 2022). Voor werk als "
            "zelfstandige of op opdracht is een TWV nodig: dit kan niet worden gemeld.",
        )
    # The exemption (BuWav 2022 art. 6.5) applies from the start of temporary protection.
    start = known.start_date
    protection = protection_start()
    if start is not None and start < protection:
        add(
            "start_date",
            "before_protection_start",
            f"The exemption applies to work from {date_en(protection)} onwards (Besluit "
            f"uitvoering Wav 2022 art. 6.5: work by a person under temporary protection).",
            f"De vrijstelling geldt voor werk vanaf {date_nl(protection)} (art. 6.5 Besluit "
            f"uitvoering Wav 2022: werk door een persoon met tijdelijke bescherming).",
        )
    if start is not None and start > received_on + timedelta(days=730):
        add(
            "start_date",
            "too_far_ahead",
            "The start date lies more than two years ahead: notify closer to the start.",
            "De startdatum ligt meer dan twee jaar vooruit: meld dichter bij de start.",
        )
    if start is not None and known.end_date is not None and known.end_date < start:
        add(
            "end_date",
            "end_before_start",
            "The end date lies before the start date.",
            "De einddatum ligt voor de startdatum.",
        )
    birth = known.birth_date
    if birth is not None and (birth > received_on or (start is not None and birth >= start)):
        add(
            "worker.birth_date",
            "birth_date_not_past",
            "The birth date must lie before the start date and before today.",
            "De geboortedatum moet voor de startdatum en voor vandaag liggen.",
        )
    elif (
        birth is not None and start is not None and (_age(birth, start) >= 100 or birth.year < 1900)
    ):
        add(
            "worker.birth_date",
            "birth_date_implausible",
            "The birth date makes the worker 100 or older at the start: please check it.",
            "Volgens de geboortedatum is de werknemer bij de start 100 of ouder: controleer dit.",
        )
    elif birth is not None and start is not None and _age(birth, start) < 12:
        add(
            "worker.birth_date",
            "birth_date_implausible",
            "The birth date makes the worker younger than 12 at the start: please check it.",
            "Volgens de geboortedatum is de werknemer bij de start jonger dan 12: controleer dit.",
        )
    if known.hours_per_week is not None and known.hours_per_week > Decimal(100):
        add(
            "hours_per_week",
            "hours_implausible",
            "More than 100 hours a week cannot be right: a week has at most 100 working hours "
            "after the legal rest periods.",
            "Meer dan 100 uur per week kan niet kloppen.",
        )
    if known.contract_type in (ContractType.TEMPORARY_AGENCY, ContractType.PAYROLL) and (
        known.hirer_given is False
    ):
        add(
            "hirer",
            "hirer_required",
            "Agency and payroll work must name the hirer (the company where the work is done).",
            "Bij uitzend- en payrollwerk moet de inlener worden vermeld.",
        )
    if known.housing_provided is True and known.housing_address_given is False:
        add(
            "housing.address",
            "housing_address_required",
            "When the employer provides housing, its address is part of the notice "
            "(Regeling melding Wav art. 3(1)(d) 3°).",
            "Als de werkgever huisvesting biedt, hoort het adres in de melding.",
        )
    if known.housing_provided is False and known.housing_deduction:
        add(
            "housing.monthly_deduction",
            "deduction_without_housing",
            "A housing deduction is declared but no housing is provided.",
            "Er is een inhouding voor huisvesting opgegeven, maar geen huisvesting.",
        )
    if known.document_valid_until is not None and known.document_type_given is False:
        add(
            "worker.document_type",
            "document_type_required",
            "Say which document the validity date belongs to.",
            "Geef aan bij welk document de geldigheidsdatum hoort.",
        )
    return errors


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
