"""The inspector's workbench: the queue, a flag with its evidence and actions, an employer, and
a dashboard with server-drawn charts.

HTTP only, no SQL: every read goes through inspection.queue (and inspection.lookups for names,
inspection.dashboard for the dashboard's figures), every change through inspection.workflow
(which audits it); web.evidence turns a flag's evidence into what the page shows. A successful POST
always redirects (POST-redirect-GET) with a message; a refused form comes back with inline
errors and changes nothing.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from meldplicht.accounts.models import Role
from meldplicht.core.clock import legal_date, today, utcnow
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import DomainError, FieldError, InvalidRequest, NotFound
from meldplicht.core.keyset import InvalidCursor
from meldplicht.core.validation import LAW_DATES, text_field_error
from meldplicht.flags import geo
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, FlagStatus, Outcome
from meldplicht.inspection import dashboard as dashboard_figures
from meldplicht.inspection import lookups, queue, workflow
from meldplicht.inspection.router import NoPersonalData, get_personal_data
from meldplicht.inspection.schemas import PersonalDataOut, QueueSort
from meldplicht.rules.checks import catalogue
from meldplicht.rules.facts import Severity
from meldplicht.web import case_charts, charts, evidence, i18n
from meldplicht.web.auth import PageForbidden, PageUser, require_page_roles
from meldplicht.web.csrf import VerifiedForm
from meldplicht.web.pages import finding_title, language, render

router = APIRouter(prefix="/inspector", include_in_schema=False)

# The same roles the inspection API lets in (inspection.dependencies.INSPECTION_ROLES).
StaffUser = Annotated[PageUser, Depends(require_page_roles(Role.INSPECTOR, Role.SUPERVISOR))]

PAGE_SIZE = 25
WEEKS_ON_DASHBOARD = 12
SWEEPS_ON_DASHBOARD = 10
FLAGS_PER_RULE_ON_EMPLOYER_PAGE = 10


def staff_of(user: PageUser) -> workflow.Staff:
    """The workflow's actor for a signed-in page user.

    The audit log names the person (`user:<id>`); `key` in the details is "web" because the
    action came through a signed-in session rather than an API key.
    """
    return workflow.Staff(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        key_prefix="web",
    )


def _is_supervisor(user: PageUser) -> bool:
    return user.role == Role.SUPERVISOR.value


def _rule_options(lang: str) -> list[tuple[str, str]]:
    rules = [(r.code, finding_title(r.code, lang)) for r in catalogue() if r.severity != "info"]
    return sorted(rules, key=lambda r: r[1].lower())


# --- the queue: filters from the query string -------------------------------------------------

FILTER_NAMES = (
    "status",
    "rule",
    "severity",
    "sector",
    "province",
    "employer",
    "assignee",
    "first_seen_from",
    "first_seen_to",
    "include_snoozed",
    "sort",
)


@dataclass(slots=True)
class ParsedFilter:
    flt: queue.QueueFilter
    sort: QueueSort
    values: dict[str, str]
    errors: list[FieldError] = field(default_factory=list)


def _field_error(name: str, en: str, nl: str) -> FieldError:
    return FieldError(field=name, code=f"invalid_{name}", message=en, message_nl=nl)


def _parse_day(values: dict[str, str], name: str, errors: list[FieldError]) -> date | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(
            _field_error(name, "Give a date as yyyy-mm-dd.", "Geef een datum als jjjj-mm-dd.")
        )
        return None
    if day not in LAW_DATES:
        errors.append(LAW_DATES.field_error(name))
        return None
    return day


def parse_filter(session: Session, user: PageUser, params: Any) -> ParsedFilter:
    """The queue filters from a GET form; the same meaning as the API's query parameters.

    A value that cannot be used is reported on its field and left out, so the page still
    shows a queue.
    """
    values = {name: str(params.get(name, "")).strip() for name in FILTER_NAMES}
    errors: list[FieldError] = []
    status = values["status"]
    statuses: tuple[FlagStatus, ...] = ACTIVE_STATUSES
    if status == "all":
        statuses = tuple(FlagStatus)
    elif status in set(FlagStatus):
        statuses = (FlagStatus(status),)
    elif status:
        values["status"] = ""
    rule = values["rule"] if values["rule"] in workflow.known_rule_codes() else ""
    severity = values["severity"] if values["severity"] in set(Severity) else ""
    province = values["province"]
    if province and province not in geo.PROVINCES:
        province = values["province"] = ""
    employer_id: uuid.UUID | None = None
    match_nothing = False
    if values["employer"]:
        try:
            found = queue.employer_by_reference(session, values["employer"])
        except InvalidRequest:
            errors.append(
                _field_error(
                    "employer",
                    "Give a KvK number (8 digits) or an employer id.",
                    "Geef een KvK-nummer (8 cijfers) of een werkgever-id.",
                )
            )
        else:
            if found is None:
                match_nothing = True
            else:
                employer_id = found.id
    assignee_id: uuid.UUID | None = None
    unassigned = False
    assignee = values["assignee"]
    if assignee == "me":
        assignee_id = user.id
    elif assignee == "none":
        unassigned = True
    elif assignee:
        try:
            assignee_id = uuid.UUID(assignee)
        except ValueError:
            values["assignee"] = ""
    first_from = _parse_day(values, "first_seen_from", errors)
    first_to = _parse_day(values, "first_seen_to", errors)
    if first_from and first_to and first_from > first_to:
        errors.append(
            _field_error(
                "first_seen_to",
                "The end of the period lies before its start.",
                "Het einde van de periode ligt voor het begin.",
            )
        )
        first_to = None
    sort = QueueSort.AGE if values["sort"] == QueueSort.AGE.value else QueueSort.RISK
    values["sort"] = sort.value
    flt = queue.QueueFilter(
        statuses=statuses,
        include_snoozed=values["include_snoozed"] == "true",
        rules=(rule,) if rule else (),
        severities=(severity,) if severity else (),
        sector=values["sector"] or None,
        province=province or None,
        employer_id=employer_id,
        assignee_id=assignee_id,
        unassigned=unassigned,
        first_seen_from=first_from,
        first_seen_to=first_to,
        match_nothing=match_nothing,
    )
    return ParsedFilter(flt=flt, sort=sort, values=values, errors=errors)


@dataclass(slots=True)
class QueuePage:
    flags: list[Flag]
    next_cursor: str | None
    previous_cursor: str | None  # "before" this page; "" = the first page
    has_previous: bool


def read_queue_page(
    session: Session, parsed: ParsedFilter, cursor: str | None, before: str | None
) -> QueuePage:
    on = today()
    flt, sort = parsed.flt, parsed.sort
    if before:
        position = queue.decode_cursor(before, sort, flt)
        earlier = queue.positions_before(session, flt, sort, position, PAGE_SIZE + 1, on)
        if len(earlier) > PAGE_SIZE:
            shown = earlier[1:]
            flags = queue.flags_in_order(session, [p.id for p in shown])
            return QueuePage(
                flags=flags,
                next_cursor=queue.encode_cursor(sort, flt, shown[-1]),
                previous_cursor=queue.encode_cursor(sort, flt, shown[0]),
                has_previous=True,
            )
        cursor = None  # fewer than a page before it: that is the first page
    flags, next_cursor = queue.list_flags(
        session, flt, sort=sort, cursor=cursor, limit=PAGE_SIZE, today=on
    )
    previous = None
    if cursor and flags:
        first = flags[0]
        key: queue.SortKey = first.risk_score if sort is QueueSort.RISK else first.first_seen_at
        previous = queue.encode_cursor(sort, flt, queue.Position(key=key, id=first.id))
    return QueuePage(
        flags=flags, next_cursor=next_cursor, previous_cursor=previous, has_previous=bool(cursor)
    )


def _query_string(values: dict[str, str], **extra: str) -> str:
    kept = {k: v for k, v in values.items() if v and not (k == "sort" and v == "risk")}
    kept.update({k: v for k, v in extra.items() if v})
    return urlencode(kept)


def _age_days(instant: datetime, on: date) -> int:
    return (on - legal_date(instant)).days


def error_view(
    errors: Sequence[FieldError], t: i18n.Translator, ids: dict[str, str]
) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """Inline messages per input id and the summary list linking to the inputs."""
    inline: dict[str, list[str]] = {}
    summary: list[dict[str, str]] = []
    for error in errors:
        input_id = ids.get(error.field, error.field)
        message = t.error(error.message, error.message_nl)
        inline.setdefault(input_id, []).append(message)
        label_key = f"inspector.field.{input_id}"
        summary.append(
            {
                "href": f"#{input_id}" if input_id else "",
                "label": t(label_key) if t.has(label_key) else "",
                "message": message,
            }
        )
    return inline, summary


@router.get("/", name="inspector_queue")
def queue_page(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    cursor: str | None = None,
    before: str | None = None,
) -> Response:
    lang = language(request)
    t = i18n.Translator(lang)
    parsed = parse_filter(session, user, request.query_params)
    errors = list(parsed.errors)
    try:
        page = read_queue_page(session, parsed, cursor, before)
    except InvalidCursor:
        # A cursor from other filters (or edited by hand): start again at the first page.
        errors.append(
            _field_error(
                "",
                "The page link no longer matches the filters: showing the first page.",
                "De paginalink past niet meer bij de filters: de eerste pagina wordt getoond.",
            )
        )
        page = read_queue_page(session, parsed, None, None)
    on = today()
    names = lookups.user_names(session, (f.assignee_id for f in page.flags))
    employers = lookups.employers_by_id(session, (f.employer_id for f in page.flags))
    inline, summary = error_view(errors, t, {})
    rows = [
        {
            "flag": f,
            "employer": employers.get(str(f.employer_id)),
            "assignee": names.get(str(f.assignee_id), ""),
            "age": _age_days(f.first_seen_at, on),
        }
        for f in page.flags
    ]
    return render(
        request,
        "inspector/queue.html",
        {
            "rows": rows,
            "values": parsed.values,
            "errors": inline,
            "error_list": summary,
            "next_href": (
                f"/inspector/?{_query_string(parsed.values, cursor=page.next_cursor)}"
                if page.next_cursor
                else ""
            ),
            "previous_href": (
                f"/inspector/?{_query_string(parsed.values, before=page.previous_cursor or '')}"
                if page.has_previous
                else ""
            ),
            "statuses": [s.value for s in FlagStatus],
            "severities": [s.value for s in Severity if s != Severity.INFO],
            "rules": _rule_options(lang),
            "sectors": lookups.flag_sectors(session),
            "provinces": geo.PROVINCES,
            "staff": lookups.staff_accounts(session),
            "user_id": str(user.id),
            "nav": "mine" if parsed.values["assignee"] == "me" else "queue",
        },
        user=user,
    )


# --- one flag -------------------------------------------------------------------------------


# Input ids of the action forms, by the field name the services use in their errors.
FORM_IDS = {
    "resolve": {"note": "resolve-note", "outcome": "resolve-outcome"},
    "notes": {"body": "note-body"},
    "snooze": {"until": "snooze-until", "reason": "snooze-reason"},
    "assign": {"assignee_id": "assign-assignee"},
    "personal-data": {"reason": "pd-reason"},
}


def _flag_page(
    request: Request,
    session: Session,
    user: PageUser,
    flag_id: uuid.UUID,
    *,
    errors: Sequence[FieldError] = (),
    form: str = "",
    values: dict[str, str] | None = None,
    problem: str = "",
    personal: PersonalDataOut | None = None,
    status_code: int = 200,
) -> Response:
    lang = language(request)
    t = i18n.Translator(lang)
    detail = queue.flag_detail(session, flag_id, lang)
    related = [*detail.related_employer_flags, *detail.related_person_flags]
    user_ids: list[uuid.UUID | str | None] = [detail.assignee_id, detail.resolved_by]
    user_ids += [f.assignee_id for f in related]
    user_ids += [n.author_id for n in detail.notes]
    user_ids += [a.actor_id.partition(":")[2] for a in detail.audit]
    user_ids += [str(a.details.get("assignee_id", "")) for a in detail.audit]
    names = lookups.user_names(session, user_ids)
    employer = lookups.employer(session, detail.employer_id)
    inline, summary = error_view(errors, t, FORM_IDS.get(form, {}))
    if problem:
        summary.insert(0, {"href": "", "label": "", "message": problem})
    mine = detail.assignee_id == user.id
    held = detail.status in (FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)
    supervisor = _is_supervisor(user)
    age = detail.evidence.get("age")
    return render(
        request,
        "inspector/flag.html",
        {
            "f": detail,
            "employer": employer,
            "names": names,
            "calculation": evidence.calculation(detail, t),
            "evidence": evidence.evidence_rows(detail, t),
            "parameters": evidence.parameter_rows(detail, age, t),
            "risk": evidence.risk_rows(detail, t),
            "audit": evidence.audit_rows(detail, names, t, lang),
            "errors": inline,
            "error_list": summary,
            "values": values or {},
            "failed_form": form,
            "personal": personal,
            "done": request.query_params.get("done", ""),
            "can": {
                "claim": detail.status == FlagStatus.OPEN,
                "release": held and (mine or supervisor),
                "investigate": detail.status == FlagStatus.CLAIMED and mine,
                "resolve": held and (mine or supervisor),
                "assign": supervisor and detail.status in ACTIVE_STATUSES,
                "reopen": supervisor and detail.status == FlagStatus.RESOLVED,
                "snooze": supervisor and detail.employer_id is not None,
                "personal_data": detail.worker_bsn_masked is not None,
            },
            "outcomes": [o.value for o in Outcome],
            "staff": lookups.staff_accounts(session) if supervisor else [],
            "today": today(),
            "nav": "queue",
        },
        status_code=status_code,
        user=user,
    )


@router.get("/flags/{flag_id}", name="inspector_flag")
def flag_page(
    request: Request, session: SessionDep, user: StaffUser, flag_id: uuid.UUID
) -> Response:
    return _flag_page(request, session, user, flag_id)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return unicodedata.normalize("NFC", value.strip()) if isinstance(value, str) else ""


def _free_text(name: str, value: str) -> list[FieldError]:
    """A field error when a typed text holds control or invisible characters or none visible."""
    error = text_field_error(name, value) if value else None
    return [error] if error is not None else []


def _required(name: str, en: str, nl: str) -> FieldError:
    return FieldError(field=name, code=f"{name}_required", message=en, message_nl=nl)


def _claim(session: Session, user: PageUser, flag_id: uuid.UUID, _form: FormData) -> str:
    workflow.claim(session, staff_of(user), flag_id)
    return "claimed"


def _release(session: Session, user: PageUser, flag_id: uuid.UUID, _form: FormData) -> str:
    workflow.release(session, staff_of(user), flag_id)
    return "released"


def _investigate(session: Session, user: PageUser, flag_id: uuid.UUID, _form: FormData) -> str:
    workflow.start_investigating(session, staff_of(user), flag_id)
    return "investigating"


def _resolve(session: Session, user: PageUser, flag_id: uuid.UUID, form: FormData) -> str:
    outcome, note = _text(form, "outcome"), _text(form, "note")
    errors = []
    if outcome not in set(Outcome):
        errors.append(_required("outcome", "Choose the outcome.", "Kies de uitkomst."))
    if not note:
        errors.append(
            _required(
                "note",
                "Write down why: a resolution needs a note.",
                "Schrijf op waarom: een afhandeling heeft een toelichting nodig.",
            )
        )
    if len(note) > 4000:
        errors.append(_required("note", "At most 4000 characters.", "Hoogstens 4000 tekens."))
    errors += _free_text("note", note)
    if errors:
        raise InvalidRequest("The resolution is incomplete.", errors=errors)
    workflow.resolve(session, staff_of(user), flag_id, Outcome(outcome), note)
    return "resolved"


def _note(session: Session, user: PageUser, flag_id: uuid.UUID, form: FormData) -> str:
    body = _text(form, "body")
    if not body or len(body) > 4000:
        raise InvalidRequest(
            "A note needs text.",
            errors=[
                _required(
                    "body",
                    "Write the note (at most 4000 characters).",
                    "Schrijf de notitie (hoogstens 4000 tekens).",
                )
            ],
        )
    if errors := _free_text("body", body):
        raise InvalidRequest("A note needs visible text.", errors=errors)
    workflow.add_note(session, staff_of(user), flag_id, body)
    return "noted"


def _supervisor_only(user: PageUser) -> None:
    if not _is_supervisor(user):
        raise PageForbidden()


def _assign(session: Session, user: PageUser, flag_id: uuid.UUID, form: FormData) -> str:
    _supervisor_only(user)
    try:
        assignee = uuid.UUID(_text(form, "assignee_id"))
    except ValueError:
        raise InvalidRequest(
            "Choose an inspector.",
            errors=[_required("assignee_id", "Choose an inspector.", "Kies een inspecteur.")],
        ) from None
    workflow.assign(session, staff_of(user), flag_id, assignee)
    return "assigned"


def _reopen(session: Session, user: PageUser, flag_id: uuid.UUID, form: FormData) -> str:
    _supervisor_only(user)
    note = _text(form, "note")
    if errors := _free_text("note", note):
        raise InvalidRequest("The note holds characters that are not allowed.", errors=errors)
    workflow.reopen(session, staff_of(user), flag_id, note or None)
    return "reopened"


def _snooze(session: Session, user: PageUser, flag_id: uuid.UUID, form: FormData) -> str:
    _supervisor_only(user)
    flag = queue.get_flag(session, flag_id)
    errors = []
    reason = _text(form, "reason")
    until: date | None = None
    try:
        until = date.fromisoformat(_text(form, "until"))
    except ValueError:
        errors.append(
            _required("until", "Give the last day of the snooze.", "Geef de laatste dag op.")
        )
    if until is not None and until not in LAW_DATES:
        errors.append(LAW_DATES.field_error("until"))
    elif until is not None and until < today():
        errors.append(
            _required("until", "The day lies in the past.", "De dag ligt in het verleden.")
        )
    errors += _free_text("reason", reason)
    if len(reason) < 3 or len(reason) > 2000:
        errors.append(
            _required(
                "reason",
                "Say why the rule is snoozed (at least 3 characters).",
                "Geef de reden (minstens 3 tekens).",
            )
        )
    if errors or until is None or flag.employer_id is None:
        raise InvalidRequest("The snooze is incomplete.", errors=errors)
    workflow.snooze(
        session,
        staff_of(user),
        employer_id=flag.employer_id,
        rule_code=flag.rule_code,
        until=until,
        reason=reason,
        today=today(),
    )
    return "snoozed"


ACTIONS: dict[str, Callable[[Session, PageUser, uuid.UUID, FormData], str]] = {
    "claim": _claim,
    "release": _release,
    "investigate": _investigate,
    "resolve": _resolve,
    "notes": _note,
    "assign": _assign,
    "reopen": _reopen,
    "snooze": _snooze,
}


def _action_endpoint(
    action: str,
) -> Callable[[Request, Session, PageUser, uuid.UUID, FormData], Response]:
    run = ACTIONS[action]

    def endpoint(
        request: Request,
        session: SessionDep,
        user: StaffUser,
        flag_id: uuid.UUID,
        form: VerifiedForm,
    ) -> Response:
        t = i18n.Translator(language(request))
        try:
            with session.begin_nested():
                done = run(session, user, flag_id, form)
        except NotFound:
            raise
        except InvalidRequest as exc:
            values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
            return _flag_page(
                request,
                session,
                user,
                flag_id,
                errors=exc.errors or [FieldError(field="", code=exc.code, message=str(exc))],
                form=action,
                values=values,
                status_code=422,
            )
        except DomainError as exc:
            key = f"inspector.problem.{exc.code}"
            problem = t(key) if t.has(key) else (exc.detail or exc.title)
            return _flag_page(
                request, session, user, flag_id, problem=problem, status_code=exc.status
            )
        return RedirectResponse(f"/inspector/flags/{flag_id}?done={done}", status_code=303)

    return endpoint


for _name in ACTIONS:
    router.add_api_route(
        f"/flags/{{flag_id}}/{_name}",
        _action_endpoint(_name),
        methods=["POST"],
        name=f"inspector_flag_{_name}",
    )


@router.post("/flags/{flag_id}/personal-data", name="inspector_personal_data")
def personal_data(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    flag_id: uuid.UUID,
    form: VerifiedForm,
) -> Response:
    """The full BSN, after a reason: shown on this response only (never in a URL or cookie).

    It goes through the API's own audited path, so the audit entry is the same one.
    """
    reason = _text(form, "reason")
    if len(reason) < 3 or len(reason) > 500:
        return _flag_page(
            request,
            session,
            user,
            flag_id,
            errors=[
                _required(
                    "reason",
                    "Say why you need the personal data (3 to 500 characters).",
                    "Geef aan waarom u de persoonsgegevens nodig hebt (3 tot 500 tekens).",
                )
            ],
            form="personal-data",
            values={"reason": reason},
            status_code=422,
        )
    try:
        shown = get_personal_data(flag_id, request, Response(), session, staff_of(user), reason)
    except NoPersonalData:
        t = i18n.Translator(language(request))
        return _flag_page(
            request,
            session,
            user,
            flag_id,
            problem=t("inspector.problem.no_personal_data"),
            status_code=404,
        )
    return _flag_page(request, session, user, flag_id, personal=shown)


# --- one employer ---------------------------------------------------------------------------


@router.get("/employers/{reference}", name="inspector_employer")
def employer_page(
    request: Request, session: SessionDep, user: StaffUser, reference: str
) -> Response:
    try:
        view = queue.employer_view(session, reference, today())
    except InvalidRequest:
        raise queue.EmployerNotFound(f"No employer {reference}.") from None
    shown_ids = [i for g in view.rules for i in g.flag_ids[:FLAGS_PER_RULE_ON_EMPLOYER_PAGE]]
    flags = {f.id: f for f in queue.flags_in_order(session, shown_ids)}
    groups = [
        {
            "group": g,
            "flags": [flags[i] for i in g.flag_ids[:FLAGS_PER_RULE_ON_EMPLOYER_PAGE] if i in flags],
            "more": max(0, g.flags - FLAGS_PER_RULE_ON_EMPLOYER_PAGE),
            "queue_href": "/inspector/?"
            + urlencode({"employer": view.employer.kvk_number, "rule": g.rule_code}),
        }
        for g in view.rules
    ]
    names = lookups.user_names(
        session,
        [
            *(r.resolved_by for r in view.recent_resolutions),
            *(f.assignee_id for f in flags.values()),
        ],
    )
    return render(
        request,
        "inspector/employer.html",
        {
            "v": view,
            "groups": groups,
            "names": names,
            "outcome_rows": [(o.value, view.outcomes.get(o.value, 0)) for o in Outcome],
            "nav": "queue",
        },
        user=user,
    )


# --- the dashboard --------------------------------------------------------------------------


@router.get("/dashboard", name="inspector_dashboard")
def dashboard(request: Request, session: SessionDep, user: StaffUser) -> Response:
    lang = language(request)
    t = i18n.Translator(lang)
    on = today()
    health = queue.queue_health(session, utcnow(), on)
    weeks = [
        charts.WeekCount(
            label=t("inspector.dash.week_label", day=f"{s.day}/{s.month}"), opened=o, resolved=r
        )
        for s, o, r in dashboard_figures.weekly_counts(session, on, WEEKS_ON_DASHBOARD)
    ]
    unknown = t("inspector.dash.unknown")

    def bars(rows: list[tuple[str | None, int]], label: Callable[[str], str]) -> list[charts.Bar]:
        return [charts.Bar(label=label(k) if k else unknown, value=n, text=str(n)) for k, n in rows]

    by_rule = bars(
        dashboard_figures.active_counts(session, "rule"),
        lambda c: finding_title(c, lang),
    )
    by_sector = bars(dashboard_figures.active_counts(session, "sector"), str)
    by_province = bars(dashboard_figures.active_counts(session, "province"), str)
    precision = sorted(health.precision_by_rule, key=lambda p: (-(p.precision or 0), p.rule_code))
    precision_bars = [
        charts.Bar(
            label=finding_title(p.rule_code, lang),
            value=p.precision or 0.0,
            text=t(
                "inspector.dash.precision_text",
                percent=round(100 * (p.precision or 0)),
                hits=p.violation_confirmed,
                resolved=p.resolved,
            ),
        )
        for p in precision
    ]
    empty = t("inspector.dash.empty")

    def ranked(bar_list: list[charts.Bar], chart_id: str, key: str, **kw: Any) -> Any:
        return charts.ranked_bars(
            bar_list,
            chart_id=chart_id,
            title=t(f"inspector.dash.{key}"),
            description=t(f"inspector.dash.{key}_desc"),
            empty_text=empty,
            **kw,
        )

    total_active = sum(health.by_status.get(s.value, 0) for s in ACTIVE_STATUSES)
    return render(
        request,
        "inspector/dashboard.html",
        {
            "health": health,
            "total_active": total_active,
            "weeks": weeks,
            "weekly_chart": charts.weekly_columns(
                weeks,
                chart_id="chart-weekly",
                title=t("inspector.dash.weekly"),
                description=t("inspector.dash.weekly_desc", weeks=WEEKS_ON_DASHBOARD),
                opened_label=t("inspector.dash.opened"),
                resolved_label=t("inspector.dash.resolved"),
            ),
            "by_rule": by_rule,
            "by_sector": by_sector,
            "by_province": by_province,
            "precision": precision,
            "rule_chart": ranked(by_rule, "chart-rule", "by_rule"),
            "sector_chart": ranked(by_sector, "chart-sector", "by_sector"),
            "province_chart": ranked(by_province, "chart-province", "by_province"),
            "precision_chart": ranked(
                precision_bars, "chart-precision", "precision", max_value=1.0
            ),
            **case_charts.dashboard_charts(session, t, on),
            "sweeps": dashboard_figures.recent_sweeps(session, SWEEPS_ON_DASHBOARD),
            "sweep_counts": ("evaluated", "opened", "cleared", "reopened"),
            "nav": "dashboard",
        },
        user=user,
    )
