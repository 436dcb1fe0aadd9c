"""The employer's change notice.

The change notice: a form prefilled with what the notification says now, a check step that
shows each change (before and after) and the findings it will bring, then one send.

HTTP only: the change itself is notifications.changes.change; what may change and how the form
becomes a change notice is notifications.changes. A successful send redirects (PRG).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.responses import Response

from meldplicht.core import idempotency
from meldplicht.core.clock import legal_date, today, utcnow
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import DomainError, FieldError, IdempotencyConflict, InvalidRequest
from meldplicht.notifications import changes, csv_format, presenters, queries
from meldplicht.notifications.facts import facts_of
from meldplicht.notifications.models import Notification, Worker
from meldplicht.notifications.schemas import NotificationChange
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.facts import Evaluation, Finding
from meldplicht.web import forms, i18n
from meldplicht.web.auth import EmployerUser, PageUser
from meldplicht.web.csrf import VerifiedForm, text_fields
from meldplicht.web.employer import (
    _context,
    _detail_context,
    _draft,
    _draft_values,
    _employer_id,
    _mark_sent,
    _store_draft,
    error_view,
)
from meldplicht.web.pages import language, render

router = APIRouter(prefix="/employer", include_in_schema=False)

_META = ("effective_date", "reason")


def _posted(fields: dict[str, str]) -> dict[str, str]:
    keep = (*_META, *changes.CHANGE_COLUMNS)
    return {k: fields[k].strip() for k in keep if k in fields}


def _open(
    session: Session, user: PageUser, notification_id: uuid.UUID
) -> tuple[Notification, dict[str, str]]:
    notification = queries.get_owned(session, _employer_id(user), notification_id)
    if not changes.open_for_changes(notification, today()):
        raise changes.NotificationClosed()
    return notification, changes.change_values(session, notification)


def _form(
    request: Request,
    session: Session,
    user: PageUser,
    notification: Notification,
    values: dict[str, str],
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    t = i18n.Translator(language(request))
    inline, summary = error_view(errors or [], t)
    detail = presenters.present(session, [notification], language(request))[0]
    context = _detail_context(detail)
    context.update({"values": values, "errors": inline, "error_list": summary})
    return render(request, "employer/change.html", context, status_code=status_code, user=user)


def preview(
    session: Session, notification: Notification, payload: NotificationChange
) -> list[Finding]:
    """The findings the rules will record for this change if it is sent now (same rule code,
    same choice of evaluation as the service makes)."""
    worker = session.get(Worker, notification.worker_id)
    assert worker is not None
    as_of = legal_date(utcnow())
    evaluation = Evaluation.INTAKE if as_of < notification.start_date else Evaluation.SWEEP
    facts = changes.apply_to_facts(facts_of(notification, worker), payload)
    return evaluate_notification(facts, as_of=as_of, evaluation=evaluation)


def _differences(
    current: dict[str, str], posted: dict[str, str], payload: NotificationChange, t: Any
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Per changed group: (label, before, after) of each input that differs."""
    out: list[tuple[str, list[tuple[str, str, str]]]] = []
    changed = payload.model_dump(exclude_unset=True, exclude=set(_META))
    for group, columns in changes.CHANGE_GROUPS.items():
        if group not in changed:
            continue
        rows = []
        for column in columns:
            before, after = current.get(column, ""), posted.get(column, "")
            if column in forms.BOOLEAN_FIELDS:
                if forms.is_checked(before) != forms.is_checked(after):
                    rows.append(
                        (
                            t(f"field.{column}"),
                            t.yes_no(forms.is_checked(before)),
                            t.yes_no(forms.is_checked(after)),
                        )
                    )
            elif before != after:
                none = t("common.none")
                rows.append(
                    (
                        t(f"field.{column}"),
                        forms.shown(column, before, t) if before else none,
                        forms.shown(column, after, t) if after else none,
                    )
                )
        out.append((t.enum("changed_field", group), rows))
    return out


@router.get("/notifications/{notification_id}/change", name="change_form")
def change_form(
    request: Request,
    session: SessionDep,
    user: EmployerUser,
    notification_id: uuid.UUID,
    draft: str = "",
) -> Response:
    """The form, prefilled with what is notified now, or with a checked draft ("Change")."""
    notification, current = _open(session, user, notification_id)
    kept = _change_draft(request, notification, draft) if draft else None
    return _form(request, session, user, notification, kept or current)


# The checked change is kept between the check POST and the check GET (Post/Redirect/Get),
# encrypted in the signed page session like the new notification's draft, and tied to its
# notification: the address carries only the draft's random id.
DRAFT_KEY = "change_draft"
_FOR = "notification_id"


def _change_draft(
    request: Request, notification: Notification, draft_id: str
) -> dict[str, str] | None:
    kept = _draft(request, draft_id, DRAFT_KEY)
    values = _draft_values(request, kept) if kept is not None else None
    if values is None or values.pop(_FOR, "") != str(notification.id):
        return None
    return values


def _confirm_address(notification: Notification, draft_id: str) -> str:
    return f"/employer/notifications/{notification.id}/change/confirm?draft={draft_id}"


@router.post("/notifications/{notification_id}/change", name="change_notification")
def change_notification(
    request: Request,
    session: SessionDep,
    user: EmployerUser,
    notification_id: uuid.UUID,
    form: VerifiedForm,
) -> Response:
    fields = forms.with_dates(text_fields(form))
    action = fields.get("action", "review")
    posted = _posted(fields)
    notification, current = _open(session, user, notification_id)
    # Unticked checkboxes are not posted; the form always posts the text inputs.
    values = {**dict.fromkeys(changes.CHANGE_COLUMNS, ""), **posted}
    if action == "submit" and _already_sent(session, user, notification, values, fields):
        # Send pressed twice (or the page reloaded): the first press stored it.
        return RedirectResponse(_done(notification), status_code=303)
    payload, errors = changes.change_from_form(values, current)
    if payload is None:
        return _form(request, session, user, notification, values, errors, status_code=422)
    if action != "submit":
        draft_id = _store_draft(request, {**values, _FOR: str(notification.id)}, DRAFT_KEY)
        return RedirectResponse(_confirm_address(notification, draft_id), status_code=303)
    response = _submit(request, session, user, notification, values, payload, fields)
    if response.status_code == 303:
        _mark_sent(request, fields.get("submission_id"), response.headers["location"], DRAFT_KEY)
    return response


@router.get("/notifications/{notification_id}/change/confirm", name="confirm_change")
def confirm_change(
    request: Request,
    session: SessionDep,
    user: EmployerUser,
    notification_id: uuid.UUID,
    draft: str = "",
) -> Response:
    """The check page of a change (the GET after the check POST): each change before and
    after, and the findings it will bring. After sending, it leads to the notification."""
    notification = queries.get_owned(session, _employer_id(user), notification_id)
    kept = _draft(request, draft, DRAFT_KEY)
    if kept is not None and isinstance(kept.get("sent"), str):
        return RedirectResponse(kept["sent"], status_code=303)
    notification, current = _open(session, user, notification_id)
    values = _change_draft(request, notification, draft)
    if values is None:  # expired, replaced by a newer check, or another browser
        return RedirectResponse(f"/employer/notifications/{notification.id}/change", 303)
    payload, errors = changes.change_from_form(values, current)
    if payload is None:  # the notice changed meanwhile: the form says what is wrong now
        return _form(request, session, user, notification, values, errors, status_code=422)
    t = i18n.Translator(language(request))
    detail = presenters.present(session, [notification], language(request))[0]
    context = _detail_context(detail)
    context.update(
        {
            "values": values,
            "payload": payload,
            "differences": _differences(current, values, payload, t),
            "findings": preview(session, notification, payload),
            "submission_id": draft,
            "edit_href": f"/employer/notifications/{notification.id}/change?draft={draft}",
        }
    )
    return render(request, "employer/change_confirm.html", context, user=user)


def _key(fields: dict[str, str]) -> str:
    try:
        return f"change:{uuid.UUID(hex=fields.get('submission_id') or '').hex}"
    except ValueError:
        return f"change:{uuid.uuid4().hex}"


def _fingerprint(notification: Notification, values: dict[str, str]) -> str:
    return idempotency.request_fingerprint("POST", f"change:{notification.id}", values)


def _done(notification: Notification) -> str:
    return f"/employer/notifications/{notification.id}?done=changed"


def _already_sent(
    session: Session,
    user: PageUser,
    notification: Notification,
    values: dict[str, str],
    fields: dict[str, str],
) -> bool:
    owner = user.principal.actor_id
    key = _key(fields)
    return idempotency.find(session, owner, key, _fingerprint(notification, values)) is not None


def _submit(
    request: Request,
    session: Session,
    user: PageUser,
    notification: Notification,
    values: dict[str, str],
    payload: NotificationChange,
    fields: dict[str, str],
) -> Response:
    """Store once per check page: pressing Send twice (or reloading) makes one version."""
    key = _key(fields)
    owner = user.principal.actor_id
    done = _done(notification)
    fingerprint = _fingerprint(notification, values)
    t = i18n.Translator(language(request))
    busy = "This change is already being stored."

    def store() -> tuple[None, int, dict[str, Any]]:
        changes.change(
            session, _employer_id(user), notification.id, payload, _context(request, user)
        )
        return None, 303, {"id": str(notification.id)}

    try:
        # A refused change leaves nothing behind, not even the claim of its key; a change sent
        # before (or at the same moment, and committed) leads to the same page as the first.
        with session.begin_nested():
            idempotency.run_once(session, owner, key, fingerprint, store, busy=busy)
    except InvalidRequest as exc:
        errors = csv_format.to_columns(exc.errors)
        return _form(request, session, user, notification, values, errors, status_code=422)
    except IntegrityError:
        raise IdempotencyConflict(busy) from None
    except DomainError as exc:
        problem = t(f"problem.{exc.code}") if t.has(f"problem.{exc.code}") else str(exc)
        error = FieldError(field="", code=exc.code, message=problem, message_nl=problem)
        return _form(request, session, user, notification, values, [error], status_code=409)
    return RedirectResponse(done, status_code=303)
