"""The employer's pages: dashboard, the notification form with a confirm step, the receipt
(page and PDF), change / termination / withdrawal, and the bulk CSV upload.

HTTP only: every write goes through notifications.intake/changes (channel FORM or BULK); every
verdict comes from the rules. A successful POST always redirects (POST-redirect-GET).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.fernet import InvalidToken
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from meldplicht.alerts.actions import list_actions
from meldplicht.core import idempotency
from meldplicht.core.clock import legal_date, today, utcnow
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    DomainError,
    FieldError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
)
from meldplicht.notifications import bulk, changes, csv_format, intake, presenters, queries
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel, NotificationStatus, Worker
from meldplicht.notifications.schemas import NotificationOut
from meldplicht.rules import calendar
from meldplicht.rules.facts import Finding
from meldplicht.web import forms, i18n, worker_copy
from meldplicht.web.auth import EmployerUser, PageUser
from meldplicht.web.csrf import VerifiedForm, text_fields
from meldplicht.web.pages import language, render
from meldplicht.web.pdf import receipt_pdf, worker_copy_pdf
from meldplicht.web.receipt import receipt_party

log = logging.getLogger("meldplicht.web")

router = APIRouter(prefix="/employer", include_in_schema=False)

PAGE_SIZE = 25
REPORT_ROWS_ON_PAGE = 500
# Files up to this many rows are stored in the request itself (a few seconds); larger ones in
# a background thread behind a progress page. The request's own transaction holds SQLite's
# write lock, so a thread could not start writing before the request ends anyway.
SYNC_ROWS = 200
NEW_DEFAULTS = {"worker_nationality": "UKR", "wage_period": "hour", "housing_provided": "false"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _context(request: Request, user: PageUser, channel: Channel = Channel.FORM) -> Context:
    settings = _settings(request)
    return Context(
        actor=user.principal,
        cipher=cipher_for(settings),
        channel=channel,
        received_at=utcnow(),
    )


def _employer_id(user: PageUser) -> uuid.UUID:
    assert user.employer_id is not None  # EmployerUser guarantees it
    return user.employer_id


def error_view(
    errors: list[FieldError], t: i18n.Translator, ids: dict[str, str] | None = None
) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """Inline messages per input name, and the summary list (label, message, #anchor)."""
    inline: dict[str, list[str]] = {}
    summary: list[dict[str, str]] = []
    for error in errors:
        name = error.field
        message = t.error(error.message, error.message_nl)
        inline.setdefault(name, []).append(message)
        label_key = f"field.{name}"
        summary.append(
            {
                "href": f"#{(ids or {}).get(name, forms.field_id(name))}" if name else "",
                "label": t(label_key) if name and t.has(label_key) else "",
                "message": message,
            }
        )
    return inline, summary


def _timeliness(start: Any, notice_date: Any) -> dict[str, Any]:
    return {
        "deadline": calendar.notice_deadline(start),
        "verdict": calendar.timeliness(notice_date, start).value,
    }


# --- dashboard ------------------------------------------------------------------------------


@router.get("/", name="employer_dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    user: EmployerUser,
    cursor: str | None = None,
    status: str | None = None,
) -> Response:
    lang = language(request)
    wanted = NotificationStatus(status) if status in set(NotificationStatus) else None
    rows, next_cursor = queries.list_owned(
        session, _employer_id(user), status=wanted, cursor=cursor, limit=PAGE_SIZE
    )
    items = presenters.present(session, rows, lang)
    return render(
        request,
        "employer/dashboard.html",
        {
            "actions": list_actions(session, _employer_id(user), today(), lang).items,
            "items": items,
            "next_cursor": next_cursor,
            "status": wanted.value if wanted else "",
            "statuses": [s.value for s in NotificationStatus],
            "done": request.query_params.get("done", ""),
        },
        user=user,
    )


# --- a new notification: form -> confirm -> stored -> receipt ---------------------------------


def _form_page(
    request: Request,
    user: PageUser,
    values: dict[str, str],
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    session: Session | None = None,
) -> Response:
    t = i18n.Translator(language(request))
    inline, summary = error_view(errors or [], t)
    ref = values.get(WORKER_REF)
    known = _referenced_bsn(request, session, user, ref) if ref and session else None
    return render(
        request,
        "employer/form.html",
        {
            "values": values,
            "errors": inline,
            "error_list": summary,
            "today": today(),
            # Only the last three digits of a BSN kept by reference are ever shown.
            "bsn_last3": known[1] if known else "",
        },
        status_code=status_code,
        user=user,
    )


@router.get("/notifications/new", name="new_notification")
def new_notification(
    request: Request,
    session: SessionDep,
    user: EmployerUser,
    rehire: uuid.UUID | None = None,
    copy: uuid.UUID | None = None,
) -> Response:
    """A blank form, or one prefilled from an earlier notification of this employer: `rehire`
    keeps its worker (the BSN stays on the server, by reference), `copy` its work only."""
    values = dict(NEW_DEFAULTS)
    source_id = rehire or copy
    if source_id is not None:
        source = queries.get_owned(session, _employer_id(user), source_id)
        declaration = changes.current_declaration(session, source)
        values.update(changes.prefill_from(declaration, same_worker=rehire is not None))
        if rehire is not None:
            values[WORKER_REF] = str(source.id)
    return _form_page(request, user, values, session=session)


WORKER_REF = "worker_ref"


def _referenced_bsn(
    request: Request, session: Session, user: PageUser, ref: str
) -> tuple[str, str] | None:
    """The BSN (and its last three digits) of the worker of the employer's own notification
    `ref`; None for anything else, so a reference never reveals another employer's worker."""
    try:
        source = queries.get_owned(session, _employer_id(user), uuid.UUID(ref))
    except (ValueError, NotFound):
        return None
    worker = session.get(Worker, source.worker_id)
    if worker is None:  # pragma: no cover - a notification always has its worker
        return None
    return cipher_for(_settings(request)).decrypt(worker.bsn_encrypted), worker.bsn_last3


@router.post("/notifications/new", name="post_notification")
def post_notification(
    request: Request, session: SessionDep, user: EmployerUser, form: VerifiedForm
) -> Response:
    fields = forms.with_dates(text_fields(form))
    action = fields.get("action", "review")
    values = forms.notification_values(fields)
    typed = dict(values)
    ref = fields.get(WORKER_REF, "").strip()
    if ref and not values.get("worker_bsn"):
        known = _referenced_bsn(request, session, user, ref)
        if known is None:
            raise NotFound("No such notification.")
        values[WORKER_REF] = ref
        typed["worker_bsn"] = known[0]  # parsed, never rendered back
    if action == "edit":
        return _form_page(request, user, values, session=session)
    now = utcnow()
    parsed = forms.parse_notification(typed, now)
    if parsed.payload is None:
        return _form_page(request, user, values, parsed.errors, status_code=422, session=session)
    if action != "submit":
        draft_id = _store_draft(request, values)
        return RedirectResponse(f"/employer/notifications/new/confirm?draft={draft_id}", 303)
    submission_id = fields.get("submission_id")
    response = _submit(request, session, user, values, parsed.payload, submission_id)
    if response.status_code == 303:
        _mark_sent(request, submission_id, response.headers["location"])
    return response


# The reviewed form is kept between the review POST and the confirm GET (Post/Redirect/Get):
# encrypted in the signed page session, one draft at a time, keyed by a random id. The id is
# the only thing in the address; the values (with the BSN) never are.
DRAFT_KEY = "notification_draft"


def _store_draft(request: Request, values: dict[str, str], key: str = DRAFT_KEY) -> str:
    draft_id = uuid.uuid4().hex
    sealed = cipher_for(_settings(request)).encrypt(json.dumps(values, separators=(",", ":")))
    request.session[key] = {"id": draft_id, "values": sealed}
    return draft_id


def _draft(request: Request, draft_id: str, key: str = DRAFT_KEY) -> dict[str, Any] | None:
    draft = request.session.get(key)
    if not isinstance(draft, dict) or not draft_id or draft.get("id") != draft_id:
        return None
    return draft


def _draft_values(request: Request, draft: dict[str, Any]) -> dict[str, str] | None:
    sealed = draft.get("values")
    if not isinstance(sealed, str):
        return None
    try:
        loaded = json.loads(cipher_for(_settings(request)).decrypt(sealed))
    except (ValueError, InvalidToken):
        return None
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else None


def _mark_sent(
    request: Request, submission_id: str | None, receipt: str, key: str = DRAFT_KEY
) -> None:
    """After sending, the draft keeps only where its receipt is: Back to the confirm page
    then leads to that receipt instead of offering to send the same notice again."""
    draft = _draft(request, submission_id or "", key)
    if draft is not None:
        request.session[key] = {"id": draft["id"], "sent": receipt}


@router.get("/notifications/new/confirm", name="confirm_notification")
def confirm_notification(
    request: Request, session: SessionDep, user: EmployerUser, draft: str = ""
) -> Response:
    """The confirm page of a reviewed form (the GET after the review POST)."""
    kept = _draft(request, draft)
    if kept is not None and isinstance(kept.get("sent"), str):
        return RedirectResponse(kept["sent"], status_code=303)
    values = _draft_values(request, kept) if kept is not None else None
    if values is None:  # expired, replaced by a newer review, or another browser
        return RedirectResponse("/employer/notifications/new", status_code=303)
    # The reference to an earlier notice is ours, not a field of the notice: parse without it.
    typed = {k: v for k, v in values.items() if k != WORKER_REF}
    ref = values.get(WORKER_REF, "")
    if ref and not values.get("worker_bsn"):
        known = _referenced_bsn(request, session, user, ref)
        if known is None:
            raise NotFound("No such notification.")
        typed["worker_bsn"] = known[0]
    now = utcnow()
    parsed = forms.parse_notification(typed, now)
    if parsed.payload is None:
        return _form_page(request, user, values, parsed.errors, status_code=422, session=session)
    return _confirm_page(request, user, values, parsed.payload, now, submission_id=draft)


def _confirm_page(
    request: Request,
    user: PageUser,
    values: dict[str, str],
    payload: Any,
    now: datetime,
    submission_id: str,
) -> Response:
    findings: list[Finding] = forms.preview_findings(payload, now)
    return render(
        request,
        "employer/confirm.html",
        {
            "values": values,
            "payload": payload,
            "findings": findings,
            "timeliness": _timeliness(payload.start_date, legal_date(now)),
            "submission_id": submission_id,
        },
        user=user,
    )


def _submit(
    request: Request,
    session: Session,
    user: PageUser,
    values: dict[str, str],
    payload: Any,
    submission_id: str | None,
) -> Response:
    """Store once per confirm page: pressing Send twice (or reloading) makes one notice."""
    try:
        key = f"form:{uuid.UUID(hex=submission_id or '').hex}"
    except ValueError:
        key = f"form:{uuid.uuid4().hex}"
    owner = user.principal.actor_id
    fingerprint = idempotency.request_fingerprint("POST", "form", values)
    busy = "This notification is already being stored."

    def store() -> tuple[str, int, dict[str, Any]]:
        notification, _ = intake.create(
            session, _employer_id(user), payload, _context(request, user)
        )
        return str(notification.id), 303, {"id": str(notification.id)}

    try:
        # A refused notice leaves nothing behind, not even the claim of its key.
        with session.begin_nested():
            outcome = idempotency.run_once(session, owner, key, fingerprint, store, busy=busy)
    except InvalidRequest as exc:
        errors = [
            e.model_copy(update={"field": csv_format.column_for(e.field)}) for e in exc.errors
        ]
        return _form_page(request, user, values, errors, status_code=422, session=session)
    except IntegrityError as exc:
        log.warning("integrity %s", exc)
        # The same confirm page was sent twice at once; the other request is storing it.
        raise IdempotencyConflict(busy) from None
    if isinstance(outcome, idempotency.Replayed):
        # Sent before (Send pressed twice, or a reload): the receipt of the first press.
        stored = outcome.body.get("id")
        if not stored:
            raise IdempotencyConflict(busy)
        return _to_receipt(str(stored))
    return _to_receipt(outcome)


def _to_receipt(notification_id: str) -> Response:
    return RedirectResponse(
        f"/employer/notifications/{notification_id}/receipt?created=1", status_code=303
    )


# --- one notification ---------------------------------------------------------------------


def _load(
    request: Request, session: Session, user: PageUser, notification_id: uuid.UUID
) -> tuple[Any, Any]:
    lang = language(request)
    notification = queries.get_owned(session, _employer_id(user), notification_id)
    return notification, presenters.present_detail(session, notification, lang)


def _detail_context(detail: NotificationOut) -> dict[str, Any]:
    return {
        "n": detail,
        "timeliness": _timeliness(detail.start_date, detail.notice_date),
        # A termination with a future end date leaves changes open until that date.
        "can_change": detail.status == NotificationStatus.ACTIVE
        and not (detail.termination_pending and detail.end_date and detail.end_date < today()),
        "can_withdraw": detail.status == NotificationStatus.ACTIVE and today() < detail.start_date,
    }


@router.get("/notifications/{notification_id}", name="notification_detail")
def notification_detail(
    request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
) -> Response:
    notification, detail = _load(request, session, user, notification_id)
    context = _detail_context(detail)
    context["done"] = request.query_params.get("done", "")
    context["party"] = receipt_party(request, session, _settings(request), notification)
    return render(request, "employer/detail.html", context, user=user)


@router.get("/notifications/{notification_id}/receipt", name="notification_receipt")
def notification_receipt(
    request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
) -> Response:
    notification, detail = _load(request, session, user, notification_id)
    context = _detail_context(detail)
    context["created"] = request.query_params.get("created") == "1"
    context["party"] = receipt_party(request, session, _settings(request), notification)
    return render(request, "employer/receipt.html", context, user=user)


@router.get("/notifications/{notification_id}/receipt.pdf", name="notification_receipt_pdf")
def notification_receipt_pdf(
    request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
) -> Response:
    lang = language(request)
    notification, detail = _load(request, session, user, notification_id)
    timeliness = _timeliness(detail.start_date, detail.notice_date)
    party = receipt_party(request, session, _settings(request), notification)
    content = receipt_pdf(detail, timeliness, i18n.Translator(lang), party)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{detail.receipt_number}.pdf"',
        },
    )


def _worker_copy(
    request: Request, session: Session, user: PageUser, notification_id: uuid.UUID
) -> tuple[str, dict[str, Any]]:
    """The worker copy's language (Ukrainian unless ?lang= says otherwise) and contents."""
    requested = request.query_params.get("lang", "uk")
    lang = requested if requested in i18n.WORKER_LANGUAGES else "uk"
    notification = queries.get_owned(session, _employer_id(user), notification_id)
    detail = presenters.present_detail(session, notification, lang)
    return lang, {
        "n": detail,
        "party": receipt_party(request, session, _settings(request), notification),
        "minimum": worker_copy.minimum_for(detail),
        "facts": worker_copy.rights_facts(detail.start_date),
    }


@router.get("/notifications/{notification_id}/worker-copy", name="notification_worker_copy")
def notification_worker_copy(
    request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
) -> Response:
    """The worker's own copy, to print or hand over: Ukrainian unless ?lang= says otherwise."""
    lang, context = _worker_copy(request, session, user, notification_id)
    return render(
        request,
        "employer/worker_copy.html",
        context,
        languages=i18n.WORKER_LANGUAGES,
        user=user,
        lang=lang,
    )


@router.get("/notifications/{notification_id}/worker-copy.pdf", name="notification_worker_copy_pdf")
def notification_worker_copy_pdf(
    request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
) -> Response:
    """The worker's copy as a PDF, in the same language as the page it is linked from."""
    lang, c = _worker_copy(request, session, user, notification_id)
    content = worker_copy_pdf(c["n"], i18n.Translator(lang), c["party"], c["minimum"], c["facts"])
    filename = f"{c['n'].receipt_number}-{lang}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- termination, withdrawal (the change notice is web/employer_changes.py) ----------------

ParseForm = Callable[[dict[str, str]], tuple[Any, list[FieldError]]]
_ACTIONS: dict[str, tuple[str, ParseForm, Callable[..., Any], str]] = {
    "terminate": ("employer/terminate.html", forms.parse_termination, changes.terminate, "ended"),
    "withdraw": ("employer/withdraw.html", forms.parse_withdrawal, changes.withdraw, "withdrawn"),
}


def _action_page(
    request: Request,
    user: PageUser,
    action: str,
    detail: NotificationOut,
    values: dict[str, str],
    errors: list[FieldError] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    t = i18n.Translator(language(request))
    inline, summary = error_view(errors or [], t)
    if problem:
        summary.insert(0, {"href": "", "label": "", "message": problem})
    context = _detail_context(detail)
    context.update({"values": values, "errors": inline, "error_list": summary, "action": action})
    return render(request, _ACTIONS[action][0], context, status_code=status_code, user=user)


def _action_get(action: str) -> Any:
    def endpoint(
        request: Request, session: SessionDep, user: EmployerUser, notification_id: uuid.UUID
    ) -> Response:
        _, detail = _load(request, session, user, notification_id)
        if detail.status != NotificationStatus.ACTIVE:
            raise changes.NotificationClosed()
        return _action_page(request, user, action, detail, {})

    return endpoint


def _action_post(action: str) -> Any:
    _, parse, write, done = _ACTIONS[action]

    def endpoint(
        request: Request,
        session: SessionDep,
        user: EmployerUser,
        notification_id: uuid.UUID,
        form: VerifiedForm,
    ) -> Response:
        values = {k: v for k, v in forms.with_dates(text_fields(form)).items() if k != "action"}
        payload, errors = parse(values)
        t = i18n.Translator(language(request))
        problem = ""
        if payload is not None:
            try:
                with session.begin_nested():
                    write(
                        session,
                        _employer_id(user),
                        notification_id,
                        payload,
                        _context(request, user),
                    )
            except InvalidRequest as exc:
                errors = exc.errors
            except NotFound:
                raise
            except DomainError as exc:
                problem = t(f"problem.{exc.code}") if t.has(f"problem.{exc.code}") else str(exc)
            else:
                return RedirectResponse(
                    f"/employer/notifications/{notification_id}?done={done}", status_code=303
                )
        _, detail = _load(request, session, user, notification_id)
        return _action_page(request, user, action, detail, values, errors, problem, status_code=422)

    return endpoint


for _name in _ACTIONS:
    router.add_api_route(
        f"/notifications/{{notification_id}}/{_name}",
        _action_get(_name),
        methods=["GET"],
        name=f"{_name}_form",
    )
    router.add_api_route(
        f"/notifications/{{notification_id}}/{_name}",
        _action_post(_name),
        methods=["POST"],
        name=f"{_name}_notification",
    )


# --- bulk upload ------------------------------------------------------------------------


def _bulk_page(
    request: Request, user: PageUser, errors: list[FieldError] | None = None, status_code: int = 200
) -> Response:
    t = i18n.Translator(language(request))
    inline, summary = error_view(errors or [], t)
    return render(
        request,
        "employer/bulk.html",
        {"errors": inline, "error_list": summary, "columns": csv_format.EMPLOYER_HEADER},
        status_code=status_code,
        user=user,
    )


@router.get("/bulk", name="bulk_form")
def bulk_form(request: Request, user: EmployerUser) -> Response:
    return _bulk_page(request, user)


@router.get("/bulk/template.csv", name="bulk_template")
def bulk_template(_user: EmployerUser) -> Response:
    return Response(
        csv_format.template_csv(for_import=False).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="meldplicht-template.csv"'},
    )


@router.post("/bulk", name="bulk_upload")
def bulk_upload_page(
    request: Request, session: SessionDep, user: EmployerUser, form: VerifiedForm
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        missing = FieldError(
            field="file",
            code="file_missing",
            message="Choose a CSV file to upload.",
            message_nl="Kies een CSV-bestand om te uploaden.",
        )
        return _bulk_page(request, user, [missing], status_code=422)
    upload.file.seek(0)
    data = upload.file.read()
    try:
        records = bulk.read_csv(data)
    except InvalidRequest as exc:
        return _bulk_page(request, user, exc.errors, status_code=422)
    dry_run = forms.is_checked(str(form.get("dry_run") or ""))
    job = bulk.Job(
        id=uuid.uuid4().hex,
        employer_id=_employer_id(user),
        filename=upload.filename,
        progress=bulk.Progress(total=len(records)),
        dry_run=dry_run,
        records=records,
    )
    bulk.jobs.add(job)
    if len(records) <= SYNC_ROWS or dry_run:  # a dry run writes nothing: no lock to spare
        rows = bulk.store_rows(
            session, job.employer_id, records, user.principal, _settings(request), dry_run=dry_run
        )
        job.progress.rows.extend(rows)
        job.progress.done = len(records)
        job.finished_at = utcnow()
        job.done_event.set()
    else:
        bulk.run_in_background(
            job, request.app.state.engine, _settings(request), user.principal, records
        )
    return RedirectResponse(f"/employer/bulk/{job.id}", status_code=303)


def _row_messages(row: bulk.RowReport, t: i18n.Translator) -> list[tuple[str, str]]:
    """The row's errors and findings as (column or severity, message) in the reader's language."""
    return [(e.field, t.error(e.message_en or e.message, e.message_nl)) for e in row.errors] + [
        (
            t(f"severity.{f.severity}") if t.has(f"severity.{f.severity}") else f.severity,
            f"{t.error(f.message_en, f.message_nl)} ({f.legal_basis})",
        )
        for f in row.findings
    ]


@router.get("/bulk/{job_id}", name="bulk_job")
def bulk_job(request: Request, user: EmployerUser, job_id: str) -> Response:
    job = bulk.jobs.get(job_id, _employer_id(user))
    t = i18n.Translator(language(request))
    rows = list(job.progress.rows)
    refused = [r for r in rows if r.status in ("rejected", "conflict")]
    stored = [r for r in rows if r.status not in ("rejected", "conflict")]
    return render(
        request,
        "employer/bulk_job.html",
        {
            "job": job,
            "report": bulk.report_of(rows, dry_run=job.dry_run),
            "rejected": [(r, _row_messages(r, t)) for r in refused],
            "stored": [(r, _row_messages(r, t)) for r in stored[:REPORT_ROWS_ON_PAGE]],
            "stored_hidden": max(0, len(stored) - REPORT_ROWS_ON_PAGE),
            "needs_fixing": any(_needs_fixing(r) for r in rows),
            "percent": int(100 * job.progress.done / job.progress.total)
            if job.progress.total
            else 100,
        },
        user=user,
    )


def _no_formula(cell: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell


def _messages_text(row: bulk.RowReport, t: i18n.Translator) -> str:
    return "; ".join(
        f"{label or t('bulk.row')}: {message}" for label, message in _row_messages(row, t)
    )


def _csv_response(content: str, filename: str) -> Response:
    return Response(
        content.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/bulk/{job_id}/report.csv", name="bulk_job_report")
def bulk_job_report(request: Request, user: EmployerUser, job_id: str) -> Response:
    job = bulk.jobs.get(job_id, _employer_id(user))
    t = i18n.Translator(language(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "line",
            "external_reference",
            "worker_name",
            "status",
            "receipt_number",
            "findings",
            "errors",
        ]
    )
    for row in job.progress.rows:
        errors = "; ".join(
            f"{e.field or t('bulk.row')}: {t.error(e.message_en or e.message, e.message_nl)}"
            for e in row.errors
        )
        findings = "; ".join(
            f"{f.code} ({f.severity}): {t.error(f.message_en, f.message_nl)}" for f in row.findings
        )
        cells = [
            row.external_reference or "",
            row.worker_name or "",
            row.status,
            row.receipt_number or "",
            findings,
            errors,
        ]
        writer.writerow([row.line, *(_no_formula(c) for c in cells)])
    return _csv_response(out.getvalue(), f"report-{job.id[:8]}.csv")


def _needs_fixing(row: bulk.RowReport) -> bool:
    return row.status in ("rejected", "conflict") or row.flagged


@router.get("/bulk/{job_id}/fix.csv", name="bulk_job_fix_file")
def bulk_job_fix_file(request: Request, user: EmployerUser, job_id: str) -> Response:
    """Only the rejected, conflicting and flagged rows, as uploaded, with a fix_reason column:
    corrected, the file uploads again as it is (fix_reason is ignored on upload)."""
    job = bulk.jobs.get(job_id, _employer_id(user))
    t = i18n.Translator(language(request))
    cells_by_line = {r.line: r.cells for r in job.records}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [csv_format.FIX_REASON_COLUMN, *csv_format.EMPLOYER_HEADER]
    writer.writerow(header)
    for row in job.progress.rows:
        if not _needs_fixing(row):
            continue
        reason = _messages_text(row, t)
        if row.status == "accepted":
            reason = t("bulk.fix_stored", receipt=row.receipt_number or "") + " " + reason
        cells = cells_by_line.get(row.line, {})
        writer.writerow(
            [_no_formula(reason), *(cells.get(c, "") for c in csv_format.EMPLOYER_HEADER)]
        )
    return _csv_response(out.getvalue(), f"fix-{job.id[:8]}.csv")
