"""Creating and finding employers (creating one links the cases signals opened about it)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from meldplicht.core.errors import Conflict, NotFound
from meldplicht.employers.models import Employer
from meldplicht.employers.schemas import EmployerCreate


class EmployerExists(Conflict):
    code = "employer_exists"
    title = "An employer with this KvK number already exists"


class EmployerNotFound(NotFound):
    code = "employer_not_found"
    title = "Employer not found"


def create_employer(session: Session, data: EmployerCreate) -> Employer:
    if get_by_kvk(session, data.kvk_number) is not None:
        raise EmployerExists(f"KvK {data.kvk_number} is already registered.")
    employer = Employer.model_validate(data.model_dump())
    session.add(employer)
    session.flush()
    # Signals about it that arrived before it registered had a case of their own: now its.
    # (Imported here: the inspection modules import this one.)
    from meldplicht.inspection.signals import link_to_employer

    link_to_employer(session, employer)
    return employer


def get_by_kvk(session: Session, kvk_number: str) -> Employer | None:
    return session.exec(select(Employer).where(Employer.kvk_number == kvk_number)).first()


def get(session: Session, employer_id: uuid.UUID) -> Employer:
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise EmployerNotFound()
    return employer
