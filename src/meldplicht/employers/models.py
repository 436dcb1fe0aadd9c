"""The employer table (Regeling melding Wav art. 3(1)(d) 1°: name, address, KvK, sector)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime


class Employer(SQLModel, table=True):
    __tablename__ = "employer"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kvk_number: str = Field(max_length=8, unique=True, index=True)
    loonheffingennummer: str | None = Field(default=None, max_length=12, index=True)
    name: str = Field(max_length=200)
    street: str | None = Field(default=None, max_length=200)
    house_number: str | None = Field(default=None, max_length=20)
    postcode: str | None = Field(default=None, max_length=7)
    city: str | None = Field(default=None, max_length=100)
    sbi_code: str | None = Field(default=None, max_length=6)
    sector: str | None = Field(default=None, max_length=100)
    is_staffing_agency: bool = False
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # What the KvK business register said at the last successful look-up
    # (registers/service.py): "found" or "not_found"; None: never looked up.
    register_status: str | None = Field(default=None, max_length=12)
    registered_on: date | None = None
    register_active: bool | None = None
    register_sbi_codes: list[str] | None = Field(default=None, sa_type=JSON)
    register_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
