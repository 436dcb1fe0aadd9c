"""Change notices, terminations and withdrawals: what a change may alter, when a termination
takes effect, filing each of them (`change`, `terminate`, `withdraw`: a new version with its
findings, flags and audit entry, in the caller's transaction), and the notification as form
values (to prefill a change, a re-hire or a copy).

A termination whose end date lies ahead keeps the notification active (and open to changes)
until that date; the sweep of the day after closes it (`settle_terminations`). Whether a
termination was filed is read from `termination_reason`, which only a termination sets.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core import metrics
from meldplicht.core.clock import legal_date
from meldplicht.core.db import insert_rows
from meldplicht.core.errors import Conflict, FieldError, InvalidRequest
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.notifications import csv_format, flagging
from meldplicht.notifications.context import Context
from meldplicht.notifications.facts import facts_of, finding_rows
from meldplicht.notifications.intake import housing_values, location_rows
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationStatus,
    NotificationVersion,
    VersionKind,
    Worker,
    WorkLocation,
)
from meldplicht.notifications.queries import NotificationNotFound
from meldplicht.notifications.schemas import (
    AddressIn,
    NotificationChange,
    TerminationIn,
    WithdrawalIn,
)
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    Finding,
    NotificationFacts,
    WagePeriod,
)

AGENCY_CONTRACTS = frozenset({ContractType.TEMPORARY_AGENCY, ContractType.PAYROLL})

# The form columns a change notice may alter, grouped by the change field they make up. The
# worker, the contract type, the start date and the signatory are the notice itself: a
# different one of those is a new notification (or a withdrawal), not a change.
CHANGE_GROUPS: dict[str, tuple[str, ...]] = {
    "work_locations": tuple(
        f"{prefix}_{part}"
        for prefix in ("location", "location2")
        for part in ("street", "house_number", "postcode", "city")
    ),
    "housing": (
        "housing_provided",
        "housing_street",
        "housing_house_number",
        "housing_postcode",
        "housing_city",
        "housing_monthly_deduction",
        "housing_written_consent",
        "housing_certified",
    ),
    "hours_per_week": ("hours_per_week",),
    "fulltime_hours_per_week": ("fulltime_hours_per_week",),
    "wage": ("wage_amount", "wage_period", "wage_includes_holiday_allowance"),
    "bbl_student": ("bbl_student",),
    "paid_in_cash": ("paid_in_cash",),
    "job_title": ("job_title",),
    "job_description": ("job_description",),
    "cao": ("cao",),
    "end_date": ("end_date",),
    "hirer": ("hirer_kvk_number", "hirer_name"),
}
CHANGE_COLUMNS: tuple[str, ...] = tuple(c for group in CHANGE_GROUPS.values() for c in group)
# Unticked checkboxes are not posted: these read as "no" when absent, never as "left out".
_CHECKBOXES = frozenset(
    {
        "housing_provided",
        "housing_written_consent",
        "housing_certified",
        "wage_includes_holiday_allowance",
        "bbl_student",
        "paid_in_cash",
    }
)


# --- when a termination takes effect ---------------------------------------------------------


def termination_pending(notification: Notification) -> bool:
    """A termination was notified and the notification is still active (its end lies ahead)."""
    return (
        notification.status == NotificationStatus.ACTIVE
        and notification.termination_reason is not None
    )


def has_ended(notification: Notification, on: date) -> bool:
    """The notified termination has taken effect on `on` (the day after the last day)."""
    return (
        notification.termination_reason is not None
        and notification.end_date is not None
        and notification.end_date < on
    )


def open_for_changes(notification: Notification, on: date) -> bool:
    """Changes, a termination or a withdrawal can still be sent on `on`."""
    return notification.status == NotificationStatus.ACTIVE and not has_ended(notification, on)


def settle_terminations(session: Session, as_of: date) -> int:
    """Close every active notification whose notified termination took effect by `as_of`.

    The rules already judge such a notification as terminated (facts_of); this makes its
    status say so. Idempotent: a second run finds nothing.
    """
    result = session.execute(
        update(Notification)
        .where(
            col(Notification.status) == NotificationStatus.ACTIVE,
            col(Notification.termination_reason).is_not(None),
            col(Notification.end_date) < as_of,
        )
        .values(status=NotificationStatus.TERMINATED)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


# --- what a change may say -------------------------------------------------------------------


def change_errors(
    notification: Notification, payload: NotificationChange, fields: dict[str, Any]
) -> list[FieldError]:
    """Checks of a change that need the notification it changes (beside `change`'s own)."""
    errors: list[FieldError] = []
    agency = notification.contract_type in AGENCY_CONTRACTS
    if agency and "hirer" in fields and payload.hirer is None:
        errors.append(
            FieldError(
                field="hirer",
                code="hirer_required",
                message="Agency and payroll work must name the hirer (the company where the "
                "work is done); give the new hirer instead of removing it.",
                message_nl="Bij uitzend- en payrollwerk moet de inlener worden vermeld; geef "
                "de nieuwe inlener in plaats van hem te verwijderen.",
            )
        )
    if "work_locations" in fields and not payload.work_locations:
        errors.append(
            FieldError(
                field="work_locations",
                code="work_location_required",
                message="Give at least one work location (Regeling melding Wav art. 3(1)(d)).",
                message_nl="Geef minstens één werkadres (art. 3 lid 1 onder d Regeling melding "
                "Wav).",
            )
        )
    return errors


def apply_to_facts(facts: NotificationFacts, payload: NotificationChange) -> NotificationFacts:
    """The facts the rules will see once the change is stored (for the form's check step)."""
    fields = payload.model_dump(exclude_unset=True)
    update_: dict[str, Any] = {}
    if "hours_per_week" in fields and payload.hours_per_week is not None:
        update_["hours_per_week"] = payload.hours_per_week
    if "fulltime_hours_per_week" in fields:
        update_["fulltime_hours_per_week"] = payload.fulltime_hours_per_week
    if "wage" in fields and payload.wage is not None:
        update_["wage_amount"] = payload.wage.amount
        update_["wage_period"] = WagePeriod(payload.wage.period)
        update_["wage_includes_holiday_allowance"] = payload.wage.includes_holiday_allowance
    if "end_date" in fields:
        update_["end_date"] = payload.end_date
    if "bbl_student" in fields:
        update_["bbl_student"] = payload.bbl_student
    if "paid_in_cash" in fields:
        update_["paid_in_cash"] = payload.paid_in_cash
    if "housing" in fields:
        housing = payload.housing if payload.housing and payload.housing.provided else None
        update_["housing_provided"] = housing is not None
        update_["housing_deduction_monthly"] = housing.monthly_deduction if housing else None
        update_["housing_written_consent"] = housing.written_consent if housing else False
        update_["housing_certified"] = housing.certified if housing else None
    return dataclasses.replace(facts, **update_)


# --- the notification as form values -----------------------------------------------------------


def current_declaration(session: Session, notification: Notification) -> dict[str, Any]:
    """The newest version's declaration (what the notification says now, as JSON)."""
    version = session.exec(
        select(NotificationVersion).where(
            NotificationVersion.notification_id == notification.id,
            NotificationVersion.version == notification.version,
        )
    ).one()
    return dict(version.declaration)


def change_values(session: Session, notification: Notification) -> dict[str, str]:
    """The change form's inputs, prefilled with what the notification says now."""
    values = declaration_values(current_declaration(session, notification))
    return {c: values[c] for c in CHANGE_COLUMNS if c in values}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def declaration_values(declaration: dict[str, Any]) -> dict[str, str]:
    """A stored declaration (a version's JSON) as the form's columns; no BSN (never stored
    there) and no document number."""
    values: dict[str, str] = {}
    for column, path in csv_format.COLUMN_PATHS.items():
        node: Any = declaration
        for part in path.split("."):
            if isinstance(node, list):
                index = int(part)
                node = node[index] if index < len(node) else None
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                node = None
            if node is None:
                break
        text = _text(node)
        if text is not None and not isinstance(node, (dict, list)):
            values[column] = text
    values.pop("worker_bsn", None)
    values.pop("worker_document_number", None)
    return values


def _group_body(values: dict[str, str]) -> dict[str, Any]:
    """The change groups as a NotificationChange-shaped dict; an empty group is null."""
    row = {c: values.get(c, "") for c in CHANGE_COLUMNS}
    for name in _CHECKBOXES:
        if not row.get(name, "").strip():
            row[name] = "false"
    payload = csv_format.row_to_payload(row)
    body: dict[str, Any] = {name: payload.get(name) for name in CHANGE_GROUPS}
    housing = body.get("housing")
    if isinstance(housing, dict) and housing.get("provided") is False:
        # Unticking "housing provided" drops what was said about it.
        body["housing"] = {"provided": False}
    return body


def _validated(body: dict[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
    try:
        model = NotificationChange.model_validate(body)
    except ValidationError as exc:
        return None, csv_format.to_columns(field_errors_from_pydantic(exc.errors()))
    return model.model_dump(mode="json", exclude_unset=True), []


def change_from_form(
    posted: dict[str, str], current: dict[str, str]
) -> tuple[NotificationChange | None, list[FieldError]]:
    """A change notice from a prefilled form: only the groups that differ from `current` (the
    notification as it stands, in the same columns) become changes; every error at once."""
    meta = {k: posted[k].strip() for k in ("effective_date", "reason") if posted.get(k, "").strip()}
    if "effective_date" in meta:
        meta["effective_date"] = csv_format._cell("end_date", meta["effective_date"])
    posted_body, errors = _validated({**meta, **_group_body(posted)})
    if posted_body is None:
        # Report the meta errors too, with every group error, in one answer.
        return None, errors
    current_body, _ = _validated(
        {"effective_date": posted_body["effective_date"], **_group_body(current)}
    )
    before = current_body or {}
    changed = {
        name: posted_body.get(name)
        for name in CHANGE_GROUPS
        if posted_body.get(name) != before.get(name)
    }
    if not changed:
        return None, [
            FieldError(
                field="",
                code="nothing_to_change",
                message="Nothing differs from the notification as it stands: change at least "
                "one field.",
                message_nl="Er verschilt niets met de melding zoals die nu is: wijzig minstens "
                "één veld.",
            )
        ]
    body: dict[str, Any] = {
        k: posted_body[k] for k in ("effective_date", "reason") if k in posted_body
    }
    body.update(changed)
    model = NotificationChange.model_validate(body)
    extra = _form_level_errors(model, set(changed))
    if extra:
        return None, extra
    return model, []


_REQUIRED_GROUPS = {"wage": "wage_amount", "job_title": "job_title", "work_locations": ""}


def _form_level_errors(payload: NotificationChange, changed: set[str]) -> list[FieldError]:
    """A prefilled form that is emptied: the wage, the job and a work location stay required."""
    errors: list[FieldError] = []
    for group, column in _REQUIRED_GROUPS.items():
        if group in changed and getattr(payload, group) in (None, []):
            errors.append(
                FieldError(
                    field=column or "location_street",
                    code="missing",
                    message="This field is required: a notification always states it.",
                    message_nl="Dit veld is verplicht: een melding vermeldt dit altijd.",
                )
            )
    return errors


# --- a new notification from an earlier one (re-hire, or the same job for another worker) ---

# A new notice always needs its own dates and its own truthful declaration.
_NEVER_COPIED = ("start_date", "end_date", "declaration_truthful")


def prefill_from(declaration: dict[str, Any], *, same_worker: bool) -> dict[str, str]:
    """The new-notification form from an earlier declaration: for a re-hire the worker and the
    work as before; for a copy the work only. Dates and the declaration are left to fill in."""
    values = declaration_values(declaration)
    for column in _NEVER_COPIED:
        values.pop(column, None)
    if not same_worker:
        # The worker's columns (read here, at call time).
        for column in [c for c in csv_format.COLUMN_PATHS if c.startswith("worker_")]:
            values.pop(column, None)
    return values


# --- filing a change, a termination or a withdrawal -------------------------------------------


class NotificationClosed(Conflict):
    code = "notification_closed"
    title = "The notification is terminated or withdrawn"


class WithdrawalTooLate(Conflict):
    code = "withdrawal_too_late"
    title = "Only a notification whose work has not started can be withdrawn"


def _evaluate(
    session: Session,
    notification: Notification,
    worker: Worker,
    ctx: Context,
    *,
    first_postcode: str | None = None,
) -> list[Finding]:
    as_of = legal_date(ctx.received_at)
    evaluation = Evaluation.INTAKE if as_of < notification.start_date else Evaluation.SWEEP
    if notification.version == 1:
        evaluation = Evaluation.INTAKE
    findings = evaluate_notification(
        facts_of(notification, worker), as_of=as_of, evaluation=evaluation
    )
    insert_rows(
        session,
        NotificationFinding,
        finding_rows(notification.id, notification.version, findings, as_of, ctx.received_at),
    )
    metrics.findings_emitted([f.code for f in findings], source="intake")
    flagging.raise_flags_at_intake(
        session,
        notification,
        findings,
        as_of,
        evaluation,
        first_postcode=first_postcode,
        person_hash=worker.bsn_hash,
    )
    return findings


def _set_locations(
    session: Session, notification: Notification, locations: list[AddressIn], *, replace: bool
) -> None:
    if replace:
        for old in session.exec(
            select(WorkLocation).where(WorkLocation.notification_id == notification.id)
        ):
            session.delete(old)
    insert_rows(session, WorkLocation, location_rows(notification.id, locations))


def _apply_housing(notification: Notification, housing: Any) -> None:
    for name, value in housing_values(housing).items():
        setattr(notification, name, value)


def _load_for_write(
    session: Session, employer_id: uuid.UUID, notification_id: uuid.UUID, ctx: Context
) -> tuple[Notification, Worker]:
    notification = session.exec(
        select(Notification)
        .where(Notification.id == notification_id, Notification.employer_id == employer_id)
        .with_for_update()
    ).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.status != NotificationStatus.ACTIVE:
        raise NotificationClosed(f"This notification is {notification.status}.")
    if has_ended(notification, legal_date(ctx.received_at)):
        raise NotificationClosed("The employment ended on its notified end date.")
    worker = session.get(Worker, notification.worker_id)
    assert worker is not None
    return notification, worker


def _latest_declaration(session: Session, notification: Notification) -> dict[str, Any]:
    return copy.deepcopy(current_declaration(session, notification))  # edited into the next


def _new_version(
    session: Session,
    notification: Notification,
    kind: VersionKind,
    ctx: Context,
    declaration: dict[str, Any],
    changes: dict[str, Any],
    effective_date: date | None,
    reason: str | None,
) -> None:
    notification.version += 1
    notification.updated_at = ctx.received_at
    notification.next_check_date = None  # re-evaluate in the next incremental sweep
    # Its dates may have moved: the next sweep judges its people, employer and payroll again.
    notification.next_cross_date = None
    notification.next_payroll_date = None
    session.add(notification)
    session.add(
        NotificationVersion(
            notification_id=notification.id,
            version=notification.version,
            kind=kind,
            channel=ctx.channel,
            received_at=ctx.received_at,
            effective_date=effective_date,
            declaration=declaration,
            changes=changes,
            reason=reason,
        )
    )


def change(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: NotificationChange,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    fields = payload.model_dump(exclude_unset=True, exclude={"effective_date", "reason"})
    if not fields:
        raise InvalidRequest(
            "A change notice must change at least one field.",
            errors=[
                FieldError(
                    field="",
                    code="nothing_to_change",
                    message="Send at least one field to change.",
                    message_nl="Geef minstens één veld om te wijzigen.",
                )
            ],
        )
    errors: list[FieldError] = []
    new_end = payload.end_date if "end_date" in fields else notification.end_date
    if new_end is not None and new_end < notification.start_date:
        errors.append(
            FieldError(
                field="end_date",
                code="end_before_start",
                message="The end date lies before the start date.",
                message_nl="De einddatum ligt voor de startdatum.",
            )
        )
    if payload.effective_date < notification.start_date - timedelta(days=730):
        errors.append(
            FieldError(
                field="effective_date",
                code="effective_date_implausible",
                message="The effective date is implausible.",
                message_nl="De ingangsdatum is onwaarschijnlijk.",
            )
        )
    errors.extend(change_errors(notification, payload, fields))
    if payload.housing is not None and payload.housing.provided and payload.housing.address is None:
        errors.append(
            FieldError(
                field="housing.address",
                code="housing_address_required",
                message="When the employer provides housing, give its address.",
                message_nl="Geef het adres van de huisvesting.",
            )
        )
    if errors:
        raise InvalidRequest(errors=errors)

    declaration = _latest_declaration(session, notification)
    dumped = payload.model_dump(mode="json", exclude_unset=True)
    changes: dict[str, Any] = {}
    for name in fields:
        before = declaration.get(name)
        after = dumped[name]
        if before != after:
            changes[name] = {"from": before, "to": after}
        declaration[name] = after
    if "hours_per_week" in fields and payload.hours_per_week is not None:
        notification.hours_per_week = payload.hours_per_week
    if "fulltime_hours_per_week" in fields:
        notification.fulltime_hours_per_week = payload.fulltime_hours_per_week
    if "wage" in fields and payload.wage is not None:
        notification.wage_amount = payload.wage.amount
        notification.wage_period = payload.wage.period
        notification.wage_includes_holiday_allowance = payload.wage.includes_holiday_allowance
    if "end_date" in fields:
        notification.end_date = payload.end_date
    if "job_title" in fields and payload.job_title is not None:
        notification.job_title = payload.job_title
    if "job_description" in fields:
        notification.job_description = payload.job_description
    if "cao" in fields:
        notification.cao = payload.cao
    if "housing" in fields:
        _apply_housing(notification, payload.housing)
    if "bbl_student" in fields:
        notification.bbl_student = payload.bbl_student
    if "paid_in_cash" in fields:
        notification.paid_in_cash = payload.paid_in_cash
    if "work_locations" in fields and payload.work_locations:
        _set_locations(session, notification, payload.work_locations, replace=True)
    if "hirer" in fields:
        notification.hirer_kvk_number = payload.hirer.kvk_number if payload.hirer else None
        notification.hirer_name = payload.hirer.name if payload.hirer else None
    _new_version(
        session,
        notification,
        VersionKind.CHANGE,
        ctx,
        declaration,
        changes,
        payload.effective_date,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.changed",
        "notification",
        notification.id,
        {"version": notification.version, "fields": sorted(changes)},
    )
    session.flush()
    return notification, findings


def terminate(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: TerminationIn,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    if payload.end_date < notification.start_date:
        raise InvalidRequest(
            errors=[
                FieldError(
                    field="end_date",
                    code="end_before_start",
                    message="The employment cannot end before it started; withdraw instead.",
                    message_nl="Een dienstverband kan niet voor de start eindigen; trek in.",
                )
            ]
        )
    declaration = _latest_declaration(session, notification)
    changed: dict[str, Any] = {
        "end_date": {"from": declaration.get("end_date"), "to": payload.end_date.isoformat()},
    }
    declaration["end_date"] = payload.end_date.isoformat()
    notification.end_date = payload.end_date
    notification.termination_reason = payload.reason
    # A future end date keeps the notification active until then; the day after, the sweep
    # closes it (settle_terminations).
    if has_ended(notification, legal_date(ctx.received_at)):
        changed["status"] = {"from": notification.status, "to": NotificationStatus.TERMINATED}
        notification.status = NotificationStatus.TERMINATED
    _new_version(
        session,
        notification,
        VersionKind.TERMINATION,
        ctx,
        declaration,
        changed,
        payload.end_date,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.terminated",
        "notification",
        notification.id,
        {"end_date": payload.end_date.isoformat()},
    )
    session.flush()
    return notification, findings


def withdraw(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: WithdrawalIn,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    if legal_date(ctx.received_at) >= notification.start_date:
        raise WithdrawalTooLate(
            "The work has started (or starts today): send a termination instead."
        )
    declaration = _latest_declaration(session, notification)
    changes = {"status": {"from": notification.status, "to": NotificationStatus.WITHDRAWN}}
    notification.status = NotificationStatus.WITHDRAWN
    _new_version(
        session,
        notification,
        VersionKind.WITHDRAWAL,
        ctx,
        declaration,
        changes,
        None,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.withdrawn",
        "notification",
        notification.id,
        {"reason": payload.reason},
    )
    session.flush()
    return notification, findings
