"""Employer bodies for the CLI, the admin API and responses."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from meldplicht.notifications.schemas import KvkNumber, Loonheffingennummer, Postcode, Text200


class EmployerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kvk_number: KvkNumber
    name: Text200
    loonheffingennummer: Loonheffingennummer | None = None
    street: Text200 | None = None
    house_number: str | None = Field(None, max_length=20)
    postcode: Postcode | None = None
    city: Text200 | None = None
    sbi_code: str | None = Field(None, pattern=r"^\d{2,5}$")
    sector: Text200 | None = None
    is_staffing_agency: bool = False
    contact_name: Text200 | None = None
    contact_email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    contact_phone: str | None = Field(None, max_length=30)


class EmployerOut(BaseModel):
    id: uuid.UUID
    kvk_number: str
    name: str
    loonheffingennummer: str | None
    sbi_code: str | None
    sector: str | None
    is_staffing_agency: bool
