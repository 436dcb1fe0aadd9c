"""Saved views of the case queue: an inspector names a filter and sort, and opens it later.

A view is the queue page's own query parameters (status, severity, sector, province, due,
reports from outside still to check, sort), normalised by `page_values` (the one reading of
them, used by the page and the API),
so a saved view opens exactly the queue it was saved from. Views belong to one person:
another person's view id is "not found", never a 403 that would confirm it exists.
Saving and deleting are audited; this module only flushes, the request owns the commit.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, col, func, select

from meldplicht.audit import service as audit
from meldplicht.core.errors import FieldError, InvalidRequest, NotFound
from meldplicht.core.validation import text_problem
from meldplicht.flags import geo
from meldplicht.inspection.case_queue import CaseFilter, CaseSort, DueStatus
from meldplicht.inspection.models import ACTIVE_CASE_STATUSES, CaseStatus, CaseView
from meldplicht.inspection.workflow import Staff

QUERY_KEYS = ("status", "severity", "sector", "province", "due", "signals", "sort")
SEVERITIES = ("high", "medium", "low")
NAME_MAX = 80
MAX_VIEWS = 25  # per person: a short list to choose from, not an archive
SECTOR_MAX = 100


class ViewNotFound(NotFound):
    code = "view_not_found"
    title = "Saved view not found"


class TooManyViews(InvalidRequest):
    code = "too_many_views"
    title = "Too many saved views"


def page_values(params: Mapping[str, Any]) -> dict[str, str]:
    """The queue's filter and sort from query parameters (or a saved view): unknown values
    are dropped to "any" (a link or bookmark never breaks the page); sort defaults to risk."""
    values = {k: str(params.get(k, "") or "").strip() for k in QUERY_KEYS}
    if values["sort"] not in {s.value for s in CaseSort}:
        values["sort"] = CaseSort.RISK.value
    if values["status"] != "all" and values["status"] not in {s.value for s in CaseStatus}:
        values["status"] = ""
    if values["severity"] not in SEVERITIES:
        values["severity"] = ""
    if len(values["sector"]) > SECTOR_MAX:
        values["sector"] = ""
    if values["province"] not in geo.PROVINCES:
        values["province"] = ""
    if values["due"] not in {d.value for d in DueStatus}:
        values["due"] = ""
    if values["signals"] != "unverified":
        values["signals"] = ""
    return values


def to_filter(values: Mapping[str, str], on: date) -> CaseFilter:
    """The case filter of normalised page values (see `page_values`), read on day `on`."""
    statuses: tuple[CaseStatus, ...] = ACTIVE_CASE_STATUSES
    if values.get("status") == "all":
        statuses = tuple(CaseStatus)
    elif values.get("status"):
        statuses = (CaseStatus(values["status"]),)
    return CaseFilter(
        statuses=statuses,
        severities=(values["severity"],) if values.get("severity") else (),
        sector=values.get("sector") or None,
        province=values.get("province") or None,
        due=DueStatus(values["due"]) if values.get("due") else None,
        as_of=on,
        unverified_signals=values.get("signals") == "unverified",
    )


def compact(values: Mapping[str, str]) -> dict[str, str]:
    """Only the parameters that filter (and the sort), in a fixed order."""
    return {k: values[k] for k in QUERY_KEYS if values.get(k)}


def href(values: Mapping[str, str]) -> str:
    query = compact(values)
    return f"/inspector/cases?{urlencode(query)}" if query else "/inspector/cases"


def check_name(raw: str) -> str:
    """A view's name: any script, 1 to 80 characters, no control or invisible characters."""
    name = unicodedata.normalize("NFC", raw.strip())

    def refuse(code: str, en: str, nl: str) -> InvalidRequest:
        return InvalidRequest(
            f"The view's name {en}.",
            errors=[FieldError(field="name", code=code, message=f"{nl} / The name {en}.")],
        )

    if not name:
        raise refuse("required", "is required", "Geef de weergave een naam")
    if len(name) > NAME_MAX:
        raise refuse(
            "too_long",
            f"is at most {NAME_MAX} characters",
            f"De naam is ten hoogste {NAME_MAX} tekens",
        )
    if any(unicodedata.category(ch) == "Cc" for ch in name):  # a name is one line: no tabs
        raise refuse(
            "control_characters", "must not contain control characters", "Bevat stuurtekens"
        )
    problem = text_problem(name)
    if problem is not None:
        code, en, nl = problem
        raise refuse(code, en, nl.rstrip("."))
    return name


def list_views(session: Session, user_id: uuid.UUID) -> list[CaseView]:
    return list(
        session.exec(
            select(CaseView)
            .where(col(CaseView.user_id) == user_id)
            .order_by(col(CaseView.name), col(CaseView.id))
        )
    )


def get_view(session: Session, user_id: uuid.UUID, view_id: uuid.UUID) -> CaseView:
    view = session.get(CaseView, view_id)
    if view is None or view.user_id != user_id:
        raise ViewNotFound(f"No saved view with id {view_id}.")
    return view


def save_view(
    session: Session, who: Staff, raw_name: str, values: Mapping[str, str]
) -> tuple[CaseView, bool]:
    """Save `values` under the name; a view of the same name is replaced. (view, created)."""
    name = check_name(raw_name)
    query = compact(page_values(values))
    view = session.exec(
        select(CaseView).where(col(CaseView.user_id) == who.user_id, col(CaseView.name) == name)
    ).first()
    created = view is None
    if view is None:
        count = session.exec(
            select(func.count()).select_from(CaseView).where(col(CaseView.user_id) == who.user_id)
        ).one()
        if count >= MAX_VIEWS:
            raise TooManyViews(
                f"You have {MAX_VIEWS} saved views, the most one person can keep: "
                "delete one first.",
                errors=[
                    FieldError(
                        field="name",
                        code="too_many_views",
                        message=f"U hebt al {MAX_VIEWS} weergaven: verwijder er eerst een. / "
                        f"You already have {MAX_VIEWS} views: delete one first.",
                    )
                ],
            )
        view = CaseView(user_id=who.user_id, name=name, query=query)
    else:
        view.query = query
    session.add(view)
    session.flush()
    audit.record(
        session,
        who.actor,
        "case.view_saved",
        "case_view",
        view.id,
        {"key": who.key_prefix, "name": name, "query": query, "replaced": not created},
    )
    return view, created


def delete_view(session: Session, who: Staff, view_id: uuid.UUID) -> None:
    view = get_view(session, who.user_id, view_id)
    audit.record(
        session,
        who.actor,
        "case.view_deleted",
        "case_view",
        view.id,
        {"key": who.key_prefix, "name": view.name},
    )
    session.delete(view)
    session.flush()
