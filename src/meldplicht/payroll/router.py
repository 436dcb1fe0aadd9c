"""POST /api/v1/payroll/imports: a data partner delivers payroll records (CSV or JSON lines)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Request, status
from starlette.concurrency import run_in_threadpool

from meldplicht.accounts.dependencies import require_roles
from meldplicht.accounts.models import Role
from meldplicht.core.clock import today
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    FieldError,
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from meldplicht.core.security import Principal
from meldplicht.payroll import service
from meldplicht.payroll.schemas import COLUMNS, PayrollFormat, PayrollImportReport, iter_rows

router = APIRouter(prefix="/api/v1/payroll", tags=["payroll"])

DataPartner = Annotated[Principal, require_roles(Role.DATA_PARTNER)]
MEDIA_TYPES: dict[str, PayrollFormat] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
}
# Kept in memory up to this size, then on disk: a large delivery is never held whole.
SPOOL_BYTES = 1024 * 1024


class Delivery:
    def __init__(self, fmt: PayrollFormat, body: IO[bytes]) -> None:
        self.format = fmt
        self.body = body


async def delivery(request: Request) -> AsyncIterator[Delivery]:
    """The request body, streamed to a spooled temporary file (the route itself is sync)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = MEDIA_TYPES.get(content_type)
    if fmt is None:
        raise UnsupportedMediaType("Send text/csv or application/x-ndjson.")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
        yield Delivery(fmt, spool)


EXAMPLE_CSV = (
    ",".join(COLUMNS)
    + "\n123456782L01,111222333,2025-03-01,2025-03-31,152,2508.00,false,1995-03-14,UKR,"
    "o_document,row-1,false\n"
)


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    response_model=PayrollImportReport,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        InvalidRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
    ),
    summary="Deliver payroll records (per-row report; sending a record again is safe)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "One payroll record per CSV row (header first; `,` or `;`) or per JSON line. "
                "Fields: " + ", ".join(COLUMNS) + ". The key is (loonheffingennummer, bsn, "
                "period_start, period_end): a record sent again with the same figures is "
                "already_present, with other figures updated."
            ),
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": EXAMPLE_CSV},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def create_import(
    request: Request,
    session: SessionDep,
    principal: DataPartner,
    body: Annotated[Delivery, Depends(delivery)],
) -> PayrollImportReport:
    """Rows are validated one by one; a rejected row stores nothing and is reported with all
    its errors. The records are reconciled with the notifications by the nightly sweep."""
    settings: Settings = request.app.state.settings

    def release(_: object) -> None:
        # The request owns the transaction; between batches only flush and let go of rows.
        session.flush()
        session.expunge_all()

    result = service.import_rows(
        session,
        iter_rows(body.body, body.format),
        cipher=cipher_for(settings),
        today=today(),
        actor_id=principal.actor_id,
        source="api",
        on_batch=release,
    )
    if result.total == 0 and result.error is None:
        message = "The delivery holds no rows."
        raise InvalidRequest(
            message,
            errors=[
                FieldError(
                    field="body",
                    code="empty_file",
                    message=message,
                    message_nl="De aanlevering bevat geen regels.",
                )
            ],
        )
    summary = result.summary()
    return PayrollImportReport(
        import_id=result.import_id,
        total=result.total,
        imported=result.counts[service.IMPORTED],
        updated=result.counts[service.UPDATED],
        already_present=result.counts[service.ALREADY_PRESENT],
        rejected=result.counts[service.REJECTED],
        seconds=summary["seconds"],
        rows_per_second=summary["rows_per_second"],
        rejected_rows=result.rejected_rows,
        truncated=result.truncated,
        error=result.error,
    )
