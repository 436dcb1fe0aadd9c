"""GET /api/v1/rules and /api/v1/parameters: what is checked, on what basis, with what values."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from meldplicht.core.errors import NotFound, problem_responses
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
