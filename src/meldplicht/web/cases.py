"""The inspector's case pages: the case queue, one case with its actions, and its report.

HTTP only: reads go through inspection.case_queue / case_detail, changes through
inspection.case_workflow (which audits them); a successful POST redirects with a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.responses import Response

from meldplicht.accounts.models import Role
from meldplicht.audit import service as audit
from meldplicht.core.clock import today
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import DomainError, FieldError, InvalidRequest
from meldplicht.flags import geo
from meldplicht.inspection import (
    case_detail,
    case_queue,
    case_report,
    case_views,
    case_workflow,
    signals,
)
from meldplicht.inspection.case_schemas import SignalVerdict
from meldplicht.inspection.models import (
    ACTIVE_CASE_STATUSES,
    CLOSING_OUTCOMES,
    Case,
    CaseOutcome,
    CaseStatus,
    SignalStatus,
)
from meldplicht.inspection.queue import InvalidCursor
from meldplicht.web import i18n
from meldplicht.web.auth import PageUser, require_page_roles
from meldplicht.web.csrf import VerifiedForm
from meldplicht.web.inspector import StaffUser, staff_of
from meldplicht.web.pages import finding_title, language, render

router = APIRouter(prefix="/inspector/cases", include_in_schema=False)
PAGE_SIZE = 25
SEVERITIES = case_views.SEVERITIES


def _filter(params: Any) -> tuple[case_queue.CaseFilter, dict[str, str]]:
    values = case_views.page_values(params)
    return case_views.to_filter(values, today()), values


@router.get("", name="inspector_cases")
def cases_page(
    request: Request, session: SessionDep, user: StaffUser, cursor: str | None = None
) -> Response:
    return _cases_page(request, session, user, cursor, request.query_params)


def _cases_page(
    request: Request,
    session: Session,
    user: Any,
    cursor: str | None,
    params: Any,
    *,
    view_name: str = "",
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    flt, values = _filter(params)
    sort = case_queue.CaseSort(values["sort"])
    try:
        rows, next_cursor, count = case_queue.list_cases(
            session, flt, sort=sort, cursor=cursor, limit=PAGE_SIZE
        )
    except InvalidCursor:
        rows, next_cursor, count = case_queue.list_cases(
            session, flt, sort=sort, cursor=None, limit=PAGE_SIZE
        )
    on = today()
    sectors = sorted(
        s
        for s in session.exec(select(Case.sector).where(col(Case.sector).is_not(None)).distinct())
        if s
    )
    query = case_views.compact(values)
    current = case_views.href(values)
    views = [
        {"id": str(v.id), "name": v.name, "href": case_views.href(v.query)}
        for v in case_views.list_views(session, user.id)
    ]
    return render(
        request,
        "inspector/cases.html",
        {
            "rows": [case_detail.case_row(c, e, on) for c, e in rows],
            "count": count,
            "values": values,
            "next_href": f"/inspector/cases?{urlencode({**query, 'cursor': next_cursor})}"
            if next_cursor
            else "",
            "sort_href": {
                s.value: f"/inspector/cases?{urlencode({**query, 'sort': s.value})}"
                for s in case_queue.CaseSort
            },
            "statuses": [s.value for s in CaseStatus],
            "severities": SEVERITIES,
            "sectors": sectors,
            "provinces": geo.PROVINCES,
            "dues": [d.value for d in case_queue.DueStatus],
            "user_id": str(user.id),
            "views": views,
            "current_href": current,
            "view_name": view_name,
            "form_errors": errors or [],
            "done": request.query_params.get("done", ""),
            "nav": "cases",
        },
        user=user,
        status_code=status_code,
    )


@router.post("/views", name="inspector_case_view_save")
def save_view(
    request: Request, session: SessionDep, user: StaffUser, form: VerifiedForm
) -> Response:
    """Save the filter the form carries (the queue's current one) under the typed name."""
    values = case_views.page_values(form)
    name = _text(form, "name")
    try:
        with session.begin_nested():
            case_views.save_view(session, staff_of(user), name, values)
    except InvalidRequest as exc:
        return _cases_page(
            request,
            session,
            user,
            None,
            values,
            view_name=name[:200],
            errors=exc.errors or [FieldError(field="name", code=exc.code, message=str(exc))],
            status_code=422,
        )
    target = case_views.href(values)
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done=view_saved", status_code=303)


@router.post("/views/{view_id}/delete", name="inspector_case_view_delete")
def delete_view(
    session: SessionDep, user: StaffUser, view_id: uuid.UUID, _form: VerifiedForm
) -> Response:
    case_views.delete_view(session, staff_of(user), view_id)
    return RedirectResponse("/inspector/cases?done=view_deleted", status_code=303)


# --- changes from a form ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Why a change was refused: the form's errors (422), or one problem in words."""

    status: int
    code: str
    errors: list[FieldError] | None = None
    problem: str | None = None

    def form_errors(self) -> list[FieldError]:
        """Both kinds as a list of errors, for a page that shows only such a list."""
        return self.errors or [FieldError(field="", code=self.code, message=self.problem or "")]


def _change(
    request: Request,
    session: Session,
    change: Callable[[], str],
    *,
    done_href: str,
    refused: Callable[[_Refusal], Response],
) -> Response:
    """Run one POST's change in a savepoint: then to `done_href` with what it returns filled
    in, or the page again (`refused`) with why not. An unknown case stays a 404."""
    t = i18n.Translator(language(request))
    try:
        with session.begin_nested():
            done = change()
    except InvalidRequest as exc:
        errors = exc.errors or [FieldError(field="", code=exc.code, message=str(exc))]
        return refused(_Refusal(422, exc.code, errors=errors))
    except case_workflow.CaseNotFound:
        raise
    except DomainError as exc:
        key = f"inspector.problem.{exc.code}"
        problem = t(key) if t.has(key) else (exc.detail or exc.title)
        return refused(_Refusal(exc.status, exc.code, problem=problem))
    return RedirectResponse(done_href.format(done), status_code=303)


# --- supervisor assignment --------------------------------------------------------------------

ASSIGN_PAGE_SIZE = 50
SupervisorUser = Annotated[PageUser, Depends(require_page_roles(Role.SUPERVISOR))]


def _assign_page(
    request: Request,
    session: Session,
    user: Any,
    cursor: str | None,
    *,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    flt = case_queue.CaseFilter(statuses=ACTIVE_CASE_STATUSES)
    sort = case_queue.CaseSort.RISK
    try:
        rows, next_cursor, count = case_queue.list_cases(
            session, flt, sort=sort, cursor=cursor, limit=ASSIGN_PAGE_SIZE
        )
    except InvalidCursor:
        rows, next_cursor, count = case_queue.list_cases(
            session, flt, sort=sort, cursor=None, limit=ASSIGN_PAGE_SIZE
        )
    staff = case_workflow.assignable_staff(session)
    on = today()
    return render(
        request,
        "inspector/case_assign.html",
        {
            "rows": [case_detail.case_row(c, e, on) for c, e in rows],
            "count": count,
            "staff": [{"id": str(s.id), "name": s.display_name} for s in staff],
            "names": {str(s.id): s.display_name for s in staff},
            "next_href": f"/inspector/cases/assign?{urlencode({'cursor': next_cursor})}"
            if next_cursor
            else "",
            "form_errors": errors or [],
            "done": request.query_params.get("done", ""),
            "n_done": request.query_params.get("n", ""),
            "nav": "assign",
        },
        user=user,
        status_code=status_code,
    )


@router.get("/assign", name="inspector_case_assign")
def assign_page(
    request: Request, session: SessionDep, user: SupervisorUser, cursor: str | None = None
) -> Response:
    """Supervisors: the active cases by risk, each with an assignee select, and a bulk assign."""
    return _assign_page(request, session, user, cursor)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _assignments(form: FormData) -> dict[uuid.UUID, uuid.UUID]:
    """Case -> person from the form: a person picked on a case's own row wins over the bulk
    choice for the ticked cases. Ids that are not ids are refused, never skipped."""

    def bad(field: str) -> InvalidRequest:
        return InvalidRequest(
            "Not an id.",
            errors=[
                FieldError(
                    field=field,
                    code="invalid_id",
                    message="Geen geldige keuze / not a valid choice.",
                )
            ],
        )

    wanted: dict[uuid.UUID, uuid.UUID] = {}
    bulk_to = _text(form, "assignee_id")
    ticked = [v for v in form.getlist("case_id") if isinstance(v, str)]
    if ticked and not bulk_to:
        raise InvalidRequest(
            "Choose the person.",
            errors=[
                FieldError(
                    field="assignee_id",
                    code="required",
                    message="Kies aan wie de aangevinkte zaken gaan / choose the person.",
                )
            ],
        )
    if ticked:
        person = _uuid(bulk_to)
        if person is None:
            raise bad("assignee_id")
        for raw in ticked:
            case_id = _uuid(raw)
            if case_id is None:
                raise bad("case_id")
            wanted[case_id] = person
    for key, value in form.multi_items():
        if not key.startswith("assignee_") or key == "assignee_id":
            continue
        if not isinstance(value, str) or not value.strip():
            continue
        case_id, person = _uuid(key.removeprefix("assignee_")), _uuid(value.strip())
        if case_id is None or person is None:
            raise bad(key)
        wanted[case_id] = person
    if not wanted:
        raise InvalidRequest(
            "Nothing to assign.",
            errors=[
                FieldError(
                    field="case_id",
                    code="required",
                    message="Kies een persoon bij een zaak, of vink zaken aan en kies een "
                    "persoon / pick a person for a case, or tick cases and pick a person.",
                )
            ],
        )
    return wanted


@router.post("/assign", name="inspector_case_assign_post")
def assign_cases(
    request: Request, session: SessionDep, user: SupervisorUser, form: VerifiedForm
) -> Response:
    """Assign every chosen case (all or none: one refusal changes nothing)."""

    def assign_all() -> str:
        wanted = _assignments(form)
        for case_id, person in wanted.items():
            case_workflow.assign(session, staff_of(user), case_id, person)
        return f"assigned&n={len(wanted)}"

    return _change(
        request,
        session,
        assign_all,
        done_href="/inspector/cases/assign?done={}",
        refused=lambda r: _assign_page(
            request, session, user, None, errors=r.form_errors(), status_code=r.status
        ),
    )


def _case_page(
    request: Request,
    session: Session,
    user: Any,
    case_id: uuid.UUID,
    *,
    problem: str | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    detail = case_detail.case_detail(session, case_id, today())
    mine = detail.assignee_id is not None and str(detail.assignee_id) == str(user.id)
    supervisor = user.role == "supervisor"
    held = detail.status in (CaseStatus.CLAIMED, CaseStatus.INVESTIGATING)
    lang = language(request)
    return render(
        request,
        "inspector/case.html",
        {
            "c": detail,
            "can": {
                "claim": detail.status == CaseStatus.OPEN,
                "investigate": detail.status == CaseStatus.CLAIMED and mine,
                "release": held and (mine or supervisor),
                "close": held and (mine or supervisor),
            },
            "outcomes": [o.value for o in CLOSING_OUTCOMES],
            "rule_titles": {
                g.rule_code: finding_title(g.rule_code, lang) for g in detail.flags_by_rule
            },
            "problem": problem,
            "form_errors": errors or [],
            "done": request.query_params.get("done", ""),
            "nav": "cases",
        },
        user=user,
        status_code=status_code,
    )


@router.get("/{case_id}", name="inspector_case")
def case_page(
    request: Request, session: SessionDep, user: StaffUser, case_id: uuid.UUID
) -> Response:
    return _case_page(request, session, user, case_id)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _close(session: Session, user: Any, case_id: uuid.UUID, form: FormData) -> str:
    outcome = _text(form, "outcome")
    if outcome not in {o.value for o in CLOSING_OUTCOMES}:
        raise InvalidRequest(
            "Choose an outcome.",
            errors=[
                FieldError(
                    field="outcome",
                    code="required",
                    message="Kies een uitkomst / choose an outcome.",
                )
            ],
        )
    case_workflow.close(session, staff_of(user), case_id, CaseOutcome(outcome), _text(form, "note"))
    return "closed"


def _claim(session: Session, user: Any, case_id: uuid.UUID, _form: FormData) -> str:
    case_workflow.claim(session, staff_of(user), case_id)
    return "claimed"


def _investigate(session: Session, user: Any, case_id: uuid.UUID, _form: FormData) -> str:
    case_workflow.start_investigating(session, staff_of(user), case_id)
    return "investigating"


def _release(session: Session, user: Any, case_id: uuid.UUID, _form: FormData) -> str:
    case_workflow.release(session, staff_of(user), case_id)
    return "released"


def _note(session: Session, user: Any, case_id: uuid.UUID, form: FormData) -> str:
    case_workflow.add_note(session, staff_of(user), case_id, _text(form, "body"))
    return "noted"


def _signal(session: Session, user: Any, case_id: uuid.UUID, form: FormData) -> str:
    verdict = _text(form, "verdict")
    if verdict not in {v.value for v in SignalVerdict}:
        raise InvalidRequest(
            "Choose verified or unfounded.",
            errors=[FieldError(field="verdict", code="required", message="verified / unfounded")],
        )
    try:
        signal_id = uuid.UUID(_text(form, "signal_id"))
    except ValueError:
        raise signals.SignalNotFound("No such signal.") from None
    case_workflow.get_case(session, case_id)
    signals.review(session, staff_of(user), case_id, signal_id, SignalStatus(verdict))
    return f"signal_{verdict}"


ACTIONS: dict[str, Callable[[Session, Any, uuid.UUID, FormData], str]] = {
    "claim": _claim,
    "investigate": _investigate,
    "release": _release,
    "close": _close,
    "note": _note,
    "signal": _signal,
}


def _action(action: str) -> Callable[..., Response]:
    run = ACTIONS[action]

    def endpoint(
        request: Request,
        session: SessionDep,
        user: StaffUser,
        case_id: uuid.UUID,
        form: VerifiedForm,
    ) -> Response:
        return _change(
            request,
            session,
            lambda: run(session, user, case_id, form),
            done_href=f"/inspector/cases/{case_id}?done={{}}",
            refused=lambda r: _case_page(
                request,
                session,
                user,
                case_id,
                problem=r.problem,
                errors=r.errors,
                status_code=r.status,
            ),
        )

    return endpoint


for _name in ACTIONS:
    router.add_api_route(
        f"/{{case_id}}/{_name}", _action(_name), methods=["POST"], name=f"inspector_case_{_name}"
    )


@router.get("/{case_id}/report.{kind}", name="inspector_case_report")
def case_report_page(
    session: SessionDep, user: StaffUser, case_id: uuid.UUID, kind: str
) -> Response:
    if kind not in ("pdf", "csv"):
        raise case_workflow.CaseNotFound("No such report.")
    detail = case_detail.case_detail(session, case_id, today())
    staff = staff_of(user)
    audit.record(
        session,
        staff.actor,
        "case.report_generated",
        "case",
        case_id,
        {"key": "web", "format": kind},
    )
    name = f"zaak-{detail.reference}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if kind == "pdf":
        return Response(
            case_report.report_pdf(detail), media_type="application/pdf", headers=headers
        )
    return Response(
        case_report.report_csv(detail), media_type="text/csv; charset=utf-8", headers=headers
    )
