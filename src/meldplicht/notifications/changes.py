"""Change notices and terminations: what a change may alter, when a termination takes effect,
and the notification as form values (to prefill a change, a re-hire or a copy).

A termination whose end date lies ahead keeps the notification active (and open to changes)
until that date; the sweep of the day after closes it (`settle_terminations`). Whether a
termination was filed is read from `termination_reason`, which only a termination sets.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from meldplicht.core.errors import FieldError
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.notifications import csv_format
from meldplicht.notifications.models import Notification, NotificationStatus, NotificationVersion
from meldplicht.notifications.schemas import NotificationChange
from meldplicht.rules.facts import ContractType, NotificationFacts, WagePeriod

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
    """Checks of a change that need the notification it changes (beside the service's own)."""
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
        # The worker's columns (read here, not at import: csv_format imports the service).
        for column in [c for c in csv_format.COLUMN_PATHS if c.startswith("worker_")]:
            values.pop(column, None)
    return values
