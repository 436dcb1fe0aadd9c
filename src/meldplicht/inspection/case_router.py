"""JSON API v1 for cases: the case queue, one case, and its workflow (inspectors, supervisors)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from meldplicht.audit import service as audit
from meldplicht.core.clock import today
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import InvalidRequest, problem_responses
from meldplicht.employers.models import Employer
from meldplicht.flags import geo
from meldplicht.inspection import (
    case_detail,
    case_queue,
    case_report,
    case_views,
    case_workflow,
    queue,
    signals,
    workflow,
)
from meldplicht.inspection.case_schemas import (
    BulkAssignIn,
    BulkAssignOut,
    CaseDetail,
    CasePage,
    CaseRow,
    CloseIn,
    SignalOut,
    SignalReviewIn,
    ViewIn,
    ViewOut,
)
from meldplicht.inspection.dependencies import CurrentStaff, CurrentSupervisor, current_staff
from meldplicht.inspection.models import ACTIVE_CASE_STATUSES, CaseStatus, CaseView, SignalStatus
from meldplicht.inspection.router import AUTH, BODY, _invalid
from meldplicht.inspection.schemas import AssignIn, NoteIn, NoteOut
from meldplicht.rules.facts import Severity

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], dependencies=[Depends(current_staff)])

READ_ONE = (*AUTH, case_workflow.CaseNotFound, InvalidRequest)
TRANSITION = (*READ_ONE, workflow.InvalidTransition, workflow.ClaimedByOther)


def case_filter(
    session: SessionDep,
    staff: CurrentStaff,
    status: Annotated[
        list[CaseStatus] | None,
        Query(description="Repeat for several. Default: open, claimed and investigating."),
    ] = None,
    rule: Annotated[
        list[str] | None, Query(max_length=40, description="Cases with an active flag of it.")
    ] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    province: Annotated[str | None, Query(max_length=20)] = None,
    employer: Annotated[
        str | None, Query(max_length=40, description="Employer id or KvK number.")
    ] = None,
    assignee: Annotated[
        str | None,
        Query(max_length=40, description="A user id, `me`, or `none` for unassigned cases."),
    ] = None,
    unverified_signals: Annotated[
        bool, Query(description="Only cases with signals from outside not yet checked.")
    ] = False,
    due: Annotated[
        case_queue.DueStatus | None,
        Query(description="By the target date today: overdue, due_soon, on_time or none."),
    ] = None,
) -> case_queue.CaseFilter:
    """The case queue filters (the flag queue's, applied to cases)."""
    if province is not None and province not in geo.PROVINCES:
        raise _invalid("province", "unknown_province", f"One of: {', '.join(geo.PROVINCES)}.")
    employer_id: uuid.UUID | None = None
    match_nothing = False
    if employer is not None:
        found = queue.employer_by_reference(session, employer)
        if found is None:
            match_nothing = True
        else:
            employer_id = found.id
    assignee_id: uuid.UUID | None = None
    unassigned = False
    if assignee == "me":
        assignee_id = staff.user_id
    elif assignee == "none":
        unassigned = True
    elif assignee is not None:
        try:
            assignee_id = uuid.UUID(assignee)
        except ValueError:
            raise _invalid("assignee", "invalid_assignee", "A user id, `me` or `none`.") from None
    return case_queue.CaseFilter(
        statuses=tuple(dict.fromkeys(status)) if status else ACTIVE_CASE_STATUSES,
        rules=tuple(sorted(set(rule or ()))),
        severities=tuple(sorted({s.value for s in severity or ()})),
        sector=sector,
        province=province,
        employer_id=employer_id,
        assignee_id=assignee_id,
        unassigned=unassigned,
        match_nothing=match_nothing,
        unverified_signals=unverified_signals,
        due=due,
        as_of=today() if due is not None else None,
    )


CaseFilterDep = Annotated[case_queue.CaseFilter, Depends(case_filter)]


@router.get(
    "",
    response_model=CasePage,
    responses=problem_responses(*AUTH, InvalidRequest),
    summary="The case queue: one row per employer's case, by risk, back pay or age",
)
def list_cases(
    session: SessionDep,
    flt: CaseFilterDep,
    sort: case_queue.CaseSort = case_queue.CaseSort.RISK,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    rows, next_cursor, count = case_queue.list_cases(
        session, flt, sort=sort, cursor=cursor, limit=limit
    )
    day = today()
    return CasePage(
        items=[case_detail.case_row(c, e, day) for c, e in rows],
        count=count,
        next_cursor=next_cursor,
    )


def _view_out(view: CaseView) -> ViewOut:
    return ViewOut(
        id=view.id,
        name=view.name,
        query=dict(view.query),
        href=case_views.href(view.query),
        created_at=view.created_at,
    )


VIEW_ERRORS = (*AUTH, case_views.ViewNotFound)


@router.get(
    "/views",
    response_model=list[ViewOut],
    responses=problem_responses(*AUTH),
    summary="Your saved views of the case queue (a named filter and sort), by name",
)
def list_views(session: SessionDep, staff: CurrentStaff) -> list[ViewOut]:
    return [_view_out(v) for v in case_views.list_views(session, staff.user_id)]


@router.post(
    "/views",
    response_model=ViewOut,
    status_code=201,
    responses={
        200: {"model": ViewOut, "description": "A view of the same name was replaced."},
        **problem_responses(*AUTH, *BODY, case_views.TooManyViews),
    },
    summary="Save a filter and sort of the case queue under a name (yours only)",
)
def save_view(
    body: ViewIn, session: SessionDep, staff: CurrentStaff, response: Response
) -> ViewOut:
    query = body.query
    if query.province is not None and query.province not in geo.PROVINCES:
        raise _invalid("query.province", "unknown_province", f"One of: {', '.join(geo.PROVINCES)}.")
    values = {k: str(v) for k, v in query.model_dump(mode="json").items() if v}
    view, created = case_views.save_view(session, staff, body.name, values)
    if not created:
        response.status_code = 200
    return _view_out(view)


@router.get(
    "/views/{view_id}",
    response_model=ViewOut,
    responses=problem_responses(*VIEW_ERRORS, InvalidRequest),
    summary="One of your saved views",
)
def get_view(view_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> ViewOut:
    return _view_out(case_views.get_view(session, staff.user_id, view_id))


@router.delete(
    "/views/{view_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*VIEW_ERRORS, InvalidRequest),
    summary="Delete one of your saved views",
)
def delete_view(view_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> Response:
    case_views.delete_view(session, staff, view_id)
    return Response(status_code=204)


@router.post(
    "/assign",
    response_model=BulkAssignOut,
    responses=problem_responses(*TRANSITION, *BODY),
    summary="Assign several cases to one inspector at once (supervisors; all or none)",
)
def assign_cases(
    body: BulkAssignIn, session: SessionDep, supervisor: CurrentSupervisor
) -> BulkAssignOut:
    ids = list(dict.fromkeys(body.case_ids))
    for case_id in ids:
        case_workflow.assign(session, supervisor, case_id, body.assignee_id)
    return BulkAssignOut(assigned=[_row(session, i) for i in ids])


@router.get(
    "/{case_id:uuid}",
    response_model=CaseDetail,
    responses=problem_responses(*READ_ONE),
    summary="One case: employer, workers with back pay, flags by rule, timeline, notes, audit",
)
def get_case(case_id: uuid.UUID, session: SessionDep) -> CaseDetail:
    return case_detail.case_detail(session, case_id, today())


def _row(session: SessionDep, case_id: uuid.UUID) -> CaseRow:
    case = case_workflow.get_case(session, case_id)
    employer = session.get(Employer, case.employer_id) if case.employer_id else None
    return case_detail.case_row(case, employer, today())


@router.post(
    "/{case_id}/claim",
    response_model=CaseRow,
    responses=problem_responses(*TRANSITION),
    summary="Claim an open case (it becomes yours)",
)
def claim_case(case_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> CaseRow:
    case_workflow.claim(session, staff, case_id)
    return _row(session, case_id)


@router.post(
    "/{case_id}/release",
    response_model=CaseRow,
    responses=problem_responses(*TRANSITION),
    summary="Release a claimed case back to the queue (the holder or a supervisor)",
)
def release_case(case_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> CaseRow:
    case_workflow.release(session, staff, case_id)
    return _row(session, case_id)


@router.post(
    "/{case_id}/investigate",
    response_model=CaseRow,
    responses=problem_responses(*TRANSITION),
    summary="Start investigating a case you claimed",
)
def investigate_case(case_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> CaseRow:
    case_workflow.start_investigating(session, staff, case_id)
    return _row(session, case_id)


@router.post(
    "/{case_id}/assign",
    response_model=CaseRow,
    responses=problem_responses(*TRANSITION, *BODY),
    summary="Assign a case to an inspector (supervisors)",
)
def assign_case(
    case_id: uuid.UUID, body: AssignIn, session: SessionDep, supervisor: CurrentSupervisor
) -> CaseRow:
    case_workflow.assign(session, supervisor, case_id, body.assignee_id)
    return _row(session, case_id)


@router.post(
    "/{case_id}/close",
    response_model=CaseRow,
    responses=problem_responses(*TRANSITION, *BODY),
    summary="Close a claimed or investigated case with an outcome and a mandatory note",
)
def close_case(
    case_id: uuid.UUID, body: CloseIn, session: SessionDep, staff: CurrentStaff
) -> CaseRow:
    case_workflow.close(session, staff, case_id, body.outcome, body.note)
    return _row(session, case_id)


@router.post(
    "/{case_id}/notes",
    response_model=NoteOut,
    status_code=201,
    responses=problem_responses(*READ_ONE, *BODY),
    summary="Add a note to a case",
)
def add_case_note(
    case_id: uuid.UUID, body: NoteIn, session: SessionDep, staff: CurrentStaff
) -> NoteOut:
    note = case_workflow.add_note(session, staff, case_id, body.body)
    return NoteOut(
        id=note.id,
        author_id=note.author_id,
        author_name=note.author_name,
        body=note.body,
        created_at=note.created_at,
    )


@router.post(
    "/{case_id}/signals/{signal_id}/review",
    response_model=SignalOut,
    responses=problem_responses(
        *READ_ONE, signals.SignalNotFound, signals.SignalAlreadyReviewed, *BODY
    ),
    summary="Mark a signal from outside verified or unfounded (audited)",
)
def review_signal(
    case_id: uuid.UUID,
    signal_id: uuid.UUID,
    body: SignalReviewIn,
    session: SessionDep,
    staff: CurrentStaff,
) -> SignalOut:
    case_workflow.get_case(session, case_id)
    row = signals.review(session, staff, case_id, signal_id, SignalStatus(body.verdict))
    return case_detail.signal_out(row)


def _report(session: SessionDep, staff: CurrentStaff, case_id: uuid.UUID, kind: str) -> CaseDetail:
    detail = case_detail.case_detail(session, case_id, today())
    audit.record(
        session,
        staff.actor,
        "case.report_generated",
        "case",
        case_id,
        {"key": staff.key_prefix, "format": kind},
    )
    return detail


@router.get(
    "/{case_id}/report.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The case report (Dutch)."},
        **problem_responses(*READ_ONE),
    },
    summary="The case report as a PDF for the inspection file (audited)",
)
def case_report_pdf(case_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> Response:
    detail = _report(session, staff, case_id, "pdf")
    return Response(
        case_report.report_pdf(detail),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="zaak-{detail.reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/{case_id}/report.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The back-pay annex (Dutch)."},
        **problem_responses(*READ_ONE),
    },
    summary="The case report's CSV annex: back pay per worker and period (audited)",
)
def case_report_csv(case_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> Response:
    detail = _report(session, staff, case_id, "csv")
    return Response(
        case_report.report_csv(detail),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="zaak-{detail.reference}.csv"',
            "Cache-Control": "no-store",
        },
    )
