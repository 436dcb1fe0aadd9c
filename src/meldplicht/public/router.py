"""GET /api/v1/rules and /api/v1/parameters: what is checked, on what basis, with what values;
GET /api/v1/receipts/{code}: whether a receipt is genuine (no personal data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from meldplicht.core.db import SessionDep
from meldplicht.core.errors import NotFound, problem_responses
from meldplicht.public import receipts
from meldplicht.rules.checks import catalogue
from meldplicht.rules.params import get_parameters

router = APIRouter(prefix="/api/v1", tags=["public"])


class RuleOut(BaseModel):
    code: str
    severity: str
    version: str
    legal_basis: str
    title_nl: str
    title_en: str
    description_en: str
    applies_at: list[str] = Field(description="intake and/or sweep")


class ParameterValueOut(BaseModel):
    effective_from: date
    value: Any
    reference: str
    note: str | None = None


class ParameterOut(BaseModel):
    name: str
    description: str
    unit: str
    reference: str
    status: str | None = None
    indexation: str | None = None
    note: str | None = None
    table_ends: Any = Field(None, description="Last day the newest value is known to hold.")
    values: list[ParameterValueOut]


class ParameterNotFound(NotFound):
    code = "parameter_not_found"
    title = "No such parameter"


@router.get("/rules", response_model=list[RuleOut], summary="Every check meldplicht applies")
def list_rules() -> list[RuleOut]:
    return [
        RuleOut(
            code=r.code,
            severity=r.severity,
            version=r.version,
            legal_basis=r.legal_basis,
            title_nl=r.title_nl,
            title_en=r.title_en,
            description_en=r.description_en,
            applies_at=list(r.applies_at),
        )
        for r in catalogue()
    ]


@router.get("/parameters", response_model=list[str], summary="Names of the legal parameters")
def list_parameters() -> list[str]:
    return get_parameters().names()


@router.get(
    "/parameters/{name}",
    response_model=ParameterOut,
    responses=problem_responses(ParameterNotFound),
    summary="A legal parameter with all its dated values and references",
)
def get_parameter(name: str) -> ParameterOut:
    params = get_parameters()
    if name not in params.names():
        raise ParameterNotFound(f"No parameter named {name!r}; see /api/v1/parameters.")
    return ParameterOut.model_validate(params.describe(name))


class ReceiptVerificationOut(BaseModel):
    receipt_number: str
    received_at: datetime
    notice_date: date = Field(description="The receipt date in Europe/Amsterdam.")
    status: str = Field(description="active, terminated or withdrawn")
    version: int = Field(description="How many declarations (notice, changes) it holds.")
    updated_at: datetime
    employer_name: str
    employer_kvk_number: str


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    title = "No receipt with this verification code"


@router.get(
    "/receipts/{verification_code}",
    response_model=ReceiptVerificationOut,
    responses=problem_responses(ReceiptNotFound),
    summary="Verify a receipt by the code in its QR link: number, date, employer; no personal data",
)
def verify_receipt(verification_code: str, session: SessionDep) -> ReceiptVerificationOut:
    found = receipts.verify(session, verification_code)
    if found is None:
        raise ReceiptNotFound(
            "No receipt has this verification code. Check the code on the receipt."
        )
    return ReceiptVerificationOut(
        receipt_number=found.receipt_number,
        received_at=found.received_at,
        notice_date=found.notice_date,
        status=found.status,
        version=found.version,
        updated_at=found.updated_at,
        employer_name=found.employer_name,
        employer_kvk_number=found.employer_kvk_number,
    )
