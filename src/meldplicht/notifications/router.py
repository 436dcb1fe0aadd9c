"""JSON API v1 for employers: notify (one, or many from a CSV file), change, terminate, withdraw,
list and read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from meldplicht.accounts.dependencies import CurrentEmployerId, CurrentPrincipal
from meldplicht.core import idempotency
from meldplicht.core.clock import legal_date, utcnow
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep, commit_request
from meldplicht.core.errors import (
    FieldError,
    Forbidden,
    IdempotencyConflict,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from meldplicht.core.security import Principal
from meldplicht.core.validation import register_body_check, request_language
from meldplicht.notifications import bulk, changes, intake, presenters, queries, validation
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel, Notification, NotificationStatus
from meldplicht.notifications.schemas import (
    IsoDate,
    NotificationChange,
    NotificationCheck,
    NotificationCreate,
    NotificationDetail,
    NotificationOut,
    NotificationPage,
    TerminationIn,
    WithdrawalIn,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

AUTH_ERRORS = (Unauthorized, Forbidden)
WRITE_ERRORS = (
    *AUTH_ERRORS,
    MalformedRequest,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,  # the intake rate limit per API key (accounts/ratelimit.py)
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Send the same key when retrying: the same key and body never makes a "
        "second notification; the same key with another body is refused (409).",
    ),
]


def language(request: Request) -> str:
    return request_language(request.headers.get("accept-language", ""))


def _context(request: Request, principal: Principal, channel: Channel) -> Context:
    settings: Settings = request.app.state.settings
    return Context(
        actor=principal,
        cipher=cipher_for(settings),
        channel=channel,
        received_at=utcnow(),
    )


def _idempotent(
    session: Session,
    principal: Principal,
    key: str | None,
    request: Request,
    payload: BaseModel,
    produce: Callable[[], tuple[int, Callable[[], BaseModel]]],
) -> Response:
    """Run `produce` once per (caller, key); replay its answer for retries
    (`idempotency.run_once`, which the pages' Send button uses too).

    `produce` does the writes and gives the status and a function that builds the answer.
    The transaction is committed here, in the handler's thread (commit_request): not one
    thread hop later, at the end of the request; without a key, before the answer is built,
    so SQLite's next writer need not wait for it. The answer is serialised straight from the
    validated model (the route's response_model documents it): no dict in between, and no
    second validation.
    """
    if key is None:
        status_code, answer = produce()
        commit_request(session)
        return _json(status_code, answer().model_dump_json().encode())
    body = payload.model_dump(mode="json")
    fingerprint = idempotency.request_fingerprint(request.method, request.url.path, body)

    def answered() -> tuple[tuple[int, bytes], int, dict[str, Any]]:
        status_code, answer = produce()
        content = answer().model_dump_json().encode()
        return (status_code, content), status_code, json.loads(content)

    outcome = idempotency.run_once(session, principal.actor_id, key, fingerprint, answered)
    if isinstance(outcome, idempotency.Replayed):
        return JSONResponse(
            status_code=outcome.status_code,
            content=outcome.body,
            headers={"Idempotent-Replayed": "true"},
        )
    commit_request(session)
    return _json(*outcome)


def _json(status_code: int, content: bytes) -> Response:
    return Response(content=content, status_code=status_code, media_type="application/json")


def _out(session: Session, notification: Notification, lang: str) -> NotificationOut:
    return presenters.present(session, [notification], lang)[0]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NotificationOut,
    responses=problem_responses(*WRITE_ERRORS, IdempotencyConflict),
    summary="Notify the employment of a person under temporary protection",
)
def create_notification(
    payload: NotificationCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    employer_id: CurrentEmployerId,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Accepts the notice (it is a notification, not a permit) and answers with the receipt and
    the findings: late notice, wage below the statutory minimum and so on, with the numbers."""
    lang = language(request)

    def produce() -> tuple[int, Callable[[], BaseModel]]:
        notification, findings = intake.create(
            session, employer_id, payload, _context(request, principal, Channel.API)
        )
        # Answered from what was just stored, without reading it back.
        return 201, lambda: presenters.present_created(notification, payload, findings, lang)

    return _idempotent(session, principal, idempotency_key, request, payload, produce)


@router.post(
    "/check",
    response_model=NotificationCheck,
    responses=problem_responses(*WRITE_ERRORS),
    summary="Check a notification without sending it: the findings it would get, nothing stored",
)
def check_notification(
    payload: NotificationCreate,
    request: Request,
    _employer_id: CurrentEmployerId,  # an employer's key: the same access as sending
) -> NotificationCheck:
    """Takes the same body as POST /api/v1/notifications and answers exactly the findings a
    notification sent now would get, or the same 422 with every problem. Nothing is stored: no
    receipt, no notification, no signal to the inspectorate, no Idempotency-Key record."""
    received_at = utcnow()
    findings = intake.check(payload, received_at)
    return presenters.present_check(payload, findings, received_at, language(request))


def _every_problem_at_once(body: Any) -> list[FieldError]:
    """A notice body that failed validation: the checks that span fields, on what parses."""
    return validation.body_cross_field_errors(body, legal_date(utcnow()))


register_body_check(create_notification, _every_problem_at_once)
register_body_check(check_notification, _every_problem_at_once)


@router.get(
    "",
    response_model=NotificationPage,
    responses=problem_responses(*AUTH_ERRORS, InvalidRequest),
    summary="List the caller's own notifications, newest first",
)
def list_notifications(
    request: Request,
    session: SessionDep,
    employer_id: CurrentEmployerId,
    status_filter: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    start_from: IsoDate | None = None,
    start_to: IsoDate | None = None,
    worker_bsn: Annotated[str | None, Query(max_length=20, description="Exact BSN.")] = None,
    worker_name: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    bsn_hash = (
        cipher_for(request.app.state.settings).keyed_hash(worker_bsn.replace(" ", ""))
        if worker_bsn
        else None
    )
    rows, next_cursor = queries.list_owned(
        session,
        employer_id,
        status=status_filter,
        start_from=start_from,
        start_to=start_to,
        worker_bsn_hash=bsn_hash,
        worker_name=worker_name,
        cursor=cursor,
        limit=limit,
    )
    return NotificationPage(
        items=presenters.present(session, rows, language(request)), next_cursor=next_cursor
    )


NOT_FOUND = queries.NotificationNotFound


@router.get(
    "/{notification_id:uuid}",
    response_model=NotificationDetail,
    responses=problem_responses(*AUTH_ERRORS, NOT_FOUND, InvalidRequest),
    summary="One notification with its full history",
)
def get_notification(
    notification_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    employer_id: CurrentEmployerId,
) -> NotificationDetail:
    notification = queries.get_owned(session, employer_id, notification_id)
    return presenters.present_detail(session, notification, language(request))


def _write_route(path: str, summary: str, body_type: type[Any], action: Callable[..., Any]) -> None:
    """Changes, termination and withdrawal share one shape: a body, idempotency, a 200."""

    def endpoint(
        notification_id: uuid.UUID,
        payload: Any,
        request: Request,
        session: SessionDep,
        principal: CurrentPrincipal,
        employer_id: CurrentEmployerId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        lang = language(request)

        def produce() -> tuple[int, Callable[[], BaseModel]]:
            notification, _ = action(
                session,
                employer_id,
                notification_id,
                payload,
                _context(request, principal, Channel.API),
            )
            out = _out(session, notification, lang)  # read in the transaction
            return 200, lambda: out

        return _idempotent(session, principal, idempotency_key, request, payload, produce)

    endpoint.__annotations__["payload"] = body_type
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        name=action.__name__,
        response_model=NotificationOut,
        responses=problem_responses(
            *WRITE_ERRORS, NOT_FOUND, changes.NotificationClosed, IdempotencyConflict
        ),
        summary=summary,
    )


_write_route(
    "/{notification_id:uuid}/changes",
    "File a change notice (hours, wage, locations, end date, job)",
    NotificationChange,
    changes.change,
)
_write_route(
    "/{notification_id:uuid}/termination",
    "Notify that the employment ends",
    TerminationIn,
    changes.terminate,
)
_write_route(
    "/{notification_id:uuid}/withdrawal",
    "Withdraw a notification sent in error, before the work starts",
    WithdrawalIn,
    changes.withdraw,
)


# --- many at once: the bulk CSV upload ----------------------------------------------------------

# Its own router, included after the other API routers (the documented order of the paths).
bulk_router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


async def uploaded_csv(request: Request) -> bytes:
    """The CSV from a text/csv body or from the `file` part of a multipart form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        return await request.body()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise bulk.file_error(
                "file_missing",
                "Send the CSV as the multipart part named 'file'.",
                "Stuur het CSV-bestand als multipart-deel met de naam 'file'.",
            )
        return await upload.read()
    raise UnsupportedMediaType("Send text/csv, or multipart/form-data with a 'file' part.")


UploadedCsv = Annotated[bytes, Depends(uploaded_csv)]


@bulk_router.post(
    "/bulk",
    response_model=bulk.BulkReport,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        MalformedRequest,
        InvalidRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
    ),
    summary="Notify many employments at once from a CSV file (per-row report)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The CSV layout of GET /employer/bulk/template.csv: one notice per "
            "row. A row whose external_reference is stored already with the same content is "
            "reported as already_present (a file can safely be sent again); with other content "
            "(another worker) as conflict, and nothing is stored for it.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
def bulk_upload(
    request: Request,
    session: SessionDep,
    data: UploadedCsv,
    principal: CurrentPrincipal,
    employer_id: CurrentEmployerId,
    dry_run: Annotated[
        bool,
        Query(description="Check the file and answer the report; store nothing (rows: checked)."),
    ] = False,
) -> bulk.BulkReport:
    """Each row is accepted (with its receipt number and findings), rejected with every field
    error, a conflict (its reference is used for another notice) or already present (the
    same reference and content were stored before); a refused row stores nothing.
    The file is stored in one transaction and the answer comes
    after the commit; rows take about 15 ms each, so send at most a few thousand rows per
    request (or use the employer page, which processes large files in the background)."""
    settings: Settings = request.app.state.settings
    records = bulk.read_csv(data)
    rows = list(
        bulk.store_rows(session, employer_id, records, principal, settings, dry_run=dry_run)
    )
    lang = language(request)
    return bulk.report_of(rows, dry_run=dry_run, lang=lang)
