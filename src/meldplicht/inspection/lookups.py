"""Names and choices the inspector's pages show next to flags and cases: who a user id is,
which employer an id is, who can be assigned work, which sectors the flags name."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag


def user_names(session: Session, ids: Iterable[uuid.UUID | str | None]) -> dict[str, str]:
    """Display names by user id (as text), in one query."""
    wanted: set[uuid.UUID] = set()
    for raw in ids:
        if raw is None:
            continue
        try:
            wanted.add(raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw)))
        except ValueError:
            continue
    if not wanted:
        return {}
    rows = session.exec(select(UserAccount).where(col(UserAccount.id).in_(wanted)))
    return {str(u.id): u.display_name for u in rows}


def employers_by_id(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[str, Employer]:
    """Employers by id (as text), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        str(e.id): e for e in session.exec(select(Employer).where(col(Employer.id).in_(wanted)))
    }


def staff_accounts(session: Session) -> list[UserAccount]:
    """The inspectors and supervisors who can be assigned work, by name."""
    return list(
        session.exec(
            select(UserAccount)
            .where(
                col(UserAccount.role).in_((Role.INSPECTOR.value, Role.SUPERVISOR.value)),
                col(UserAccount.disabled).is_(False),
            )
            .order_by(col(UserAccount.display_name))
        )
    )


def employer(session: Session, employer_id: uuid.UUID | None) -> Employer | None:
    return session.get(Employer, employer_id) if employer_id is not None else None


def flag_sectors(session: Session) -> list[str]:
    """The sectors any flag names, alphabetically (the queue's sector filter)."""
    rows = session.exec(select(Flag.sector).where(col(Flag.sector).is_not(None)).distinct())
    return sorted(s for s in rows if s)
