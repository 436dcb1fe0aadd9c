"""The floor for intake: FastAPI parses the same body into a plain pydantic model and inserts
one row with SQLAlchemy Core. No checksums, rules, findings, flags, versions or audit.

    BENCH_DATABASE_URL=sqlite:///x.db uvicorn baseline_app:app --app-dir benchmarks
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import JSON, Column, DateTime, Numeric, String, Table, Uuid
from sqlalchemy import MetaData as SAMetaData

from meldplicht.core.db import create_db_engine


class Worker(BaseModel):
    given_names: str
    surname: str
    given_names_original: str | None = None
    surname_original: str | None = None
    birth_date: date
    sex: str
    nationality: str
    bsn: str
    v_number: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    document_valid_until: date | None = None


class Wage(BaseModel):
    amount: Decimal
    period: str
    includes_holiday_allowance: bool = False


class Address(BaseModel):
    street: str
    house_number: str
    postcode: str
    city: str


class Housing(BaseModel):
    provided: bool
    address: Address | None = None
    monthly_deduction: Decimal | None = None
    written_consent: bool = False


class Hirer(BaseModel):
    kvk_number: str
    name: str


class Declaration(BaseModel):
    signatory_name: str
    truthful: bool


class Body(BaseModel):
    worker: Worker
    contract_type: str
    start_date: date
    end_date: date | None = None
    job_title: str
    job_description: str | None = None
    hours_per_week: Decimal | None = None
    fulltime_hours_per_week: Decimal | None = None
    wage: Wage
    cao: str | None = None
    work_locations: list[Address]
    housing: Housing | None = None
    hirer: Hirer | None = None
    declaration: Declaration


metadata = SAMetaData()
received = Table(
    "baseline_notification",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("wage_amount", Numeric(12, 2), nullable=False),
    Column("body", JSON, nullable=False),
)

engine = create_db_engine(os.environ["BENCH_DATABASE_URL"])
metadata.create_all(engine)
app = FastAPI(title="baseline")


@app.post("/api/v1/notifications", status_code=201)
def create(body: Body) -> dict[str, Any]:
    ident = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            received.insert().values(
                id=ident,
                received_at=datetime.now(UTC),
                start_date=body.start_date.isoformat(),
                wage_amount=body.wage.amount,
                body=body.model_dump(mode="json"),
            )
        )
    return {"id": str(ident)}
