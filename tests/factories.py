"""Request bodies for tests: a valid notification, easy to spoil one field at a time."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from meldplicht.core.clock import today

# A start comfortably more than two working days ahead, so the notice is on time.
START = today() + timedelta(days=40)


def day(offset: int) -> str:
    """START + offset days, as ISO text."""
    return (START + timedelta(days=offset)).isoformat()


VALID_BSNS = ["111222333", "123456782", "999996356", "999993653", "999990019", "999992002"]


def notification_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "worker": {
            "given_names": "Olena",
            "surname": "Kovalenko",
            "given_names_original": "Олена",
            "surname_original": "Коваленко",
            "birth_date": "1995-03-14",
            "sex": "F",
            "nationality": "UKR",
            "bsn": "111222333",
            "v_number": "1234567890",
            "document_type": "o_document",
            "document_number": "OX1234567",
            "document_valid_until": "2027-03-04",
        },
        "contract_type": "fixed_term",
        "start_date": day(0),
        "end_date": day(50),
        "job_title": "Productiemedewerker",
        "job_description": "Oogsten en inpakken van tomaten",
        "hours_per_week": "38",
        "fulltime_hours_per_week": "38",
        "wage": {"amount": "16.50", "period": "hour", "includes_holiday_allowance": False},
        "cao": "CAO Glastuinbouw",
        "work_locations": [
            {
                "street": "Tuinbouwweg",
                "house_number": "12",
                "postcode": "2671 AB",
                "city": "Naaldwijk",
            }
        ],
        "housing": {"provided": False},
        "declaration": {"signatory_name": "Jan de Vries", "truthful": True},
    }
    for key, value in overrides.items():
        body[key] = value
    return copy.deepcopy(body)


def with_worker(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["worker"].update(fields)
    return body


def iso(d: date) -> str:
    return d.isoformat()
