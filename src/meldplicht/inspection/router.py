"""JSON API v1 for inspectors and supervisors: the queue, a flag, its workflow, an employer.

Only inspector and supervisor keys bound to a user account get in (dependencies.py); an
employer key is refused with 403 on every route here, no key with 401.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from meldplicht.audit import service as audit
from meldplicht.core.clock import today, utcnow
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    FieldError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    problem_responses,
)
from meldplicht.flags import geo
from meldplicht.flags.models import ACTIVE_STATUSES, FlagStatus
from meldplicht.inspection import export, queue, workflow
from meldplicht.inspection.dependencies import (
    CurrentStaff,
    CurrentSupervisor,
    StreamSessions,
    current_staff,
)
from meldplicht.inspection.schemas import (
    AssignIn,
    BulkAssignIn,
    BulkResolveIn,
    BulkResult,
    EmployerView,
    FlagDetail,
    FlagOut,
    FlagPage,
    NoteIn,
    NoteOut,
    PersonalDataOut,
    QueueHealth,
    QueueSort,
    ReopenIn,
    ResolveIn,
    SnoozeIn,
    SnoozeOut,
)
from meldplicht.notifications.schemas import LawDate
from meldplicht.rules.facts import Severity

# Every route needs an inspector or supervisor; routes that need to know who ask again
# (FastAPI resolves the dependency once per request).
router = APIRouter(
    prefix="/api/v1/inspection", tags=["inspection"], dependencies=[Depends(current_staff)]
)

AUTH = (Unauthorized, Forbidden)
READ_ONE = (*AUTH, queue.FlagNotFound, InvalidRequest)
TRANSITION = (*READ_ONE, workflow.InvalidTransition, workflow.ClaimedByOther)
# A route with a JSON body can also meet an unreadable or oversized body.
BODY = (MalformedRequest, PayloadTooLarge, InvalidRequest)


def _language(request: Request) -> str:
    accept = request.headers.get("accept-language", "")
    return "nl" if accept.lower().startswith("nl") else "en"


def _invalid(field: str, code: str, message: str) -> queue.InvalidFilter:
    return queue.InvalidFilter(
        message, errors=[FieldError(field=field, code=code, message=message)]
    )


def queue_filter(
    session: SessionDep,
    staff: CurrentStaff,
    status: Annotated[
        list[FlagStatus] | None,
        Query(description="Repeat for several. Default: open, claimed and investigating."),
    ] = None,
    include_snoozed: Annotated[
        bool, Query(description="Also show flags whose rule is snoozed for the employer.")
    ] = False,
    rule: Annotated[list[str] | None, Query(max_length=40, description="Rule code(s).")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    province: Annotated[str | None, Query(max_length=20)] = None,
    employer: Annotated[
        str | None, Query(max_length=40, description="Employer id or KvK number.")
    ] = None,
    assignee: Annotated[
        str | None,
        Query(max_length=40, description="A user id, `me`, or `none` for unassigned flags."),
    ] = None,
    first_seen_from: Annotated[LawDate | None, Query(description="Inclusive.")] = None,
    first_seen_to: Annotated[LawDate | None, Query(description="Inclusive.")] = None,
) -> queue.QueueFilter:
    """The queue filters, shared by the list and the CSV export."""
    if province is not None and province not in geo.PROVINCES:
        raise _invalid("province", "unknown_province", f"One of: {', '.join(geo.PROVINCES)}.")
    if first_seen_from and first_seen_to and first_seen_from > first_seen_to:
        raise _invalid("first_seen_to", "range_reversed", "Lies before first_seen_from.")
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
    return queue.QueueFilter(
        statuses=tuple(dict.fromkeys(status)) if status else ACTIVE_STATUSES,
        include_snoozed=include_snoozed,
        rules=tuple(sorted(set(rule or ()))),
        severities=tuple(sorted({s.value for s in severity or ()})),
        sector=sector,
        province=province,
        employer_id=employer_id,
        assignee_id=assignee_id,
        unassigned=unassigned,
        first_seen_from=first_seen_from,
        first_seen_to=first_seen_to,
        match_nothing=match_nothing,
    )


QueueFilterDep = Annotated[queue.QueueFilter, Depends(queue_filter)]


# --- the queue ------------------------------------------------------------------------------


@router.get(
    "/flags",
    response_model=FlagPage,
    responses=problem_responses(*AUTH, InvalidRequest),
    summary="The queue: filtered flags, highest risk (or oldest) first, keyset-paginated",
)
def list_flags(
    session: SessionDep,
    flt: QueueFilterDep,
    sort: QueueSort = QueueSort.RISK,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FlagPage:
    rows, next_cursor = queue.list_flags(
        session, flt, sort=sort, cursor=cursor, limit=limit, today=today()
    )
    return FlagPage(items=[queue.flag_out(f) for f in rows], next_cursor=next_cursor)


@router.get(
    "/flags.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The filtered queue as CSV."},
        **problem_responses(*AUTH, InvalidRequest),
    },
    summary="Export the filtered queue as CSV (supervisors; no personal data; audited)",
)
def export_flags(
    session: SessionDep,
    supervisor: CurrentSupervisor,
    flt: QueueFilterDep,
    sessions: StreamSessions,
    sort: QueueSort = QueueSort.RISK,
) -> StreamingResponse:
    audit.record(
        session,
        supervisor.actor,
        "flags.exported",
        "flag_queue",
        "csv",
        {"key": supervisor.key_prefix, "filters": flt.describe(), "sort": sort.value},
    )
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        export.csv_lines(sessions, flt, sort=sort, today=today()),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="flags-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/health",
    response_model=QueueHealth,
    responses=problem_responses(*AUTH),
    summary="Queue health: counts by status and age, overdue flags, precision per rule",
)
def queue_health(session: SessionDep) -> QueueHealth:
    return queue.queue_health(session, utcnow(), today())


# --- one flag --------------------------------------------------------------------------------


@router.get(
    "/flags/{flag_id}",
    response_model=FlagDetail,
    responses=problem_responses(*READ_ONE),
    summary="One flag with evidence, risk breakdown, notification history, notes and audit",
)
def get_flag(flag_id: uuid.UUID, request: Request, session: SessionDep) -> FlagDetail:
    return queue.flag_detail(session, flag_id, _language(request))


class NoPersonalData(NotFound):
    code = "no_personal_data"
    title = "This flag is not about one person"


@router.get(
    "/flags/{flag_id}/personal-data",
    response_model=PersonalDataOut,
    responses=problem_responses(*READ_ONE, NoPersonalData),
    summary="The worker's full BSN (inspectors and supervisors; a reason is required; audited)",
)
def get_personal_data(
    flag_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    staff: CurrentStaff,
    reason: Annotated[
        str,
        Query(
            min_length=3,
            max_length=500,
            description="Why the full BSN is needed; stored in the audit log (UAVG art. 46).",
        ),
    ],
) -> PersonalDataOut:
    flag = queue.get_flag(session, flag_id)
    worker = queue.worker_of(session, flag)
    if worker is None:
        raise NoPersonalData("This flag is about an employer, not about one person.")
    audit.record(
        session,
        staff.actor,
        "personal_data.viewed",
        "flag",
        flag.id,
        {"key": staff.key_prefix, "worker_id": str(worker.id), "reason": reason.strip()},
    )
    response.headers["Cache-Control"] = "no-store"
    return PersonalDataOut(
        flag_id=flag.id,
        worker_id=worker.id,
        bsn=cipher_for(request.app.state.settings).decrypt(worker.bsn_encrypted),
        given_names=worker.given_names,
        surname=worker.surname,
        birth_date=worker.birth_date,
    )


@router.post(
    "/flags/{flag_id}/claim",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION),
    summary="Claim an open flag (it becomes yours; someone else's claim is a 409)",
)
def claim_flag(flag_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> FlagOut:
    return queue.flag_out(workflow.claim(session, staff, flag_id))


@router.post(
    "/flags/{flag_id}/release",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION),
    summary="Release a claimed flag back to the queue (the claimer or a supervisor)",
)
def release_flag(flag_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> FlagOut:
    return queue.flag_out(workflow.release(session, staff, flag_id))


@router.post(
    "/flags/{flag_id}/assign",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION, *BODY, workflow.InvalidAssignee),
    summary="Assign an active flag to an inspector (supervisors)",
)
def assign_flag(
    flag_id: uuid.UUID, payload: AssignIn, session: SessionDep, supervisor: CurrentSupervisor
) -> FlagOut:
    return queue.flag_out(workflow.assign(session, supervisor, flag_id, payload.assignee_id))


@router.post(
    "/flags/{flag_id}/investigate",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION),
    summary="Start investigating a flag you have claimed",
)
def start_investigation(flag_id: uuid.UUID, session: SessionDep, staff: CurrentStaff) -> FlagOut:
    return queue.flag_out(workflow.start_investigating(session, staff, flag_id))


@router.post(
    "/flags/{flag_id}/resolve",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION, *BODY),
    summary="Resolve a claimed or investigated flag with an outcome and a mandatory note",
)
def resolve_flag(
    flag_id: uuid.UUID, payload: ResolveIn, session: SessionDep, staff: CurrentStaff
) -> FlagOut:
    return queue.flag_out(workflow.resolve(session, staff, flag_id, payload.outcome, payload.note))


@router.post(
    "/flags/{flag_id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=problem_responses(*READ_ONE, *BODY),
    summary="Add a note to a flag",
)
def add_note(
    flag_id: uuid.UUID, payload: NoteIn, session: SessionDep, staff: CurrentStaff
) -> NoteOut:
    note = workflow.add_note(session, staff, flag_id, payload.body)
    return NoteOut(
        id=note.id,
        author_id=note.author_id,
        author_name=note.author_name,
        body=note.body,
        created_at=note.created_at,
    )


@router.post(
    "/flags/{flag_id}/reopen",
    response_model=FlagOut,
    responses=problem_responses(*TRANSITION, *BODY),
    summary="Reopen a resolved flag (supervisors)",
)
def reopen_flag(
    flag_id: uuid.UUID, payload: ReopenIn, session: SessionDep, supervisor: CurrentSupervisor
) -> FlagOut:
    return queue.flag_out(workflow.reopen(session, supervisor, flag_id, payload.note))


# --- bulk ------------------------------------------------------------------------------------


@router.post(
    "/bulk/assign",
    response_model=BulkResult,
    responses=problem_responses(*AUTH, *BODY, workflow.BulkRejected),
    summary="Assign many flags to one inspector, all or nothing (supervisors)",
)
def bulk_assign(
    payload: BulkAssignIn, session: SessionDep, supervisor: CurrentSupervisor
) -> BulkResult:
    flags = workflow.bulk_assign(session, supervisor, payload.flag_ids, payload.assignee_id)
    return BulkResult(updated=[queue.flag_out(f) for f in flags])


@router.post(
    "/bulk/resolve",
    response_model=BulkResult,
    responses=problem_responses(*AUTH, *BODY, workflow.BulkRejected),
    summary="Resolve many flags with one outcome and note, all or nothing (supervisors)",
)
def bulk_resolve(
    payload: BulkResolveIn, session: SessionDep, supervisor: CurrentSupervisor
) -> BulkResult:
    flags = workflow.bulk_resolve(
        session, supervisor, payload.flag_ids, payload.outcome, payload.note
    )
    return BulkResult(updated=[queue.flag_out(f) for f in flags])


# --- snoozes ---------------------------------------------------------------------------------


@router.get(
    "/snoozes",
    response_model=list[SnoozeOut],
    responses=problem_responses(*AUTH, InvalidRequest),
    summary="Snoozes in force (or all, with include_lifted), newest first",
)
def list_snoozes(
    session: SessionDep,
    employer_id: uuid.UUID | None = None,
    include_lifted: bool = False,
) -> list[SnoozeOut]:
    return [
        queue.snooze_out(s)
        for s in queue.list_snoozes(
            session, employer_id=employer_id, include_lifted=include_lifted, today=today()
        )
    ]


@router.post(
    "/snoozes",
    status_code=201,
    response_model=SnoozeOut,
    responses=problem_responses(*AUTH, *BODY, queue.EmployerNotFound),
    summary="Snooze a rule for one employer until a date, with a reason (supervisors)",
)
def create_snooze(
    payload: SnoozeIn, session: SessionDep, supervisor: CurrentSupervisor
) -> SnoozeOut:
    row, affected = workflow.snooze(
        session,
        supervisor,
        employer_id=payload.employer_id,
        rule_code=payload.rule_code,
        until=payload.until,
        reason=payload.reason,
        today=today(),
    )
    return queue.snooze_out(row, affected)


@router.post(
    "/snoozes/{snooze_id}/lift",
    response_model=SnoozeOut,
    responses=problem_responses(*AUTH, InvalidRequest, workflow.SnoozeNotFound),
    summary="Lift a snooze: the employer's flags of that rule return to the queue (supervisors)",
)
def lift_snooze(
    snooze_id: uuid.UUID, session: SessionDep, supervisor: CurrentSupervisor
) -> SnoozeOut:
    row, affected = workflow.lift_snooze(session, supervisor, snooze_id)
    return queue.snooze_out(row, affected)


# --- employers -------------------------------------------------------------------------------


@router.get(
    "/employers/{employer}",
    response_model=EmployerView,
    responses=problem_responses(*AUTH, queue.EmployerNotFound, InvalidRequest),
    summary="One employer (by id or KvK number): active flags by rule, notifications, outcomes",
)
def get_employer_view(employer: str, session: SessionDep) -> EmployerView:
    return queue.employer_view(session, employer, today())
