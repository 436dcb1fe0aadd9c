"""Back pay: the worked cases in cases/back_pay.yaml (figures computed by hand from the tables)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import yaml

from meldplicht.rules.backpay import Declared, Paid, back_pay
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.wages import to_decimal

from .conftest import CASES

BACK_PAY = yaml.safe_load((CASES / "back_pay.yaml").read_text(encoding="utf-8"))["cases"]


def _declared(raw: dict[str, Any]) -> Declared:
    return Declared(
        effective_from=raw["effective_from"],
        amount=Decimal(raw["amount"]),
        period=WagePeriod(raw["period"]),
        hours_per_week=Decimal(raw["hours_per_week"]),
        includes_holiday_allowance=raw["includes_holiday_allowance"],
    )


def _paid(raw: dict[str, Any]) -> Paid:
    return Paid(
        period_start=raw["period_start"],
        period_end=raw["period_end"],
        hours_paid=Decimal(raw["hours_paid"]),
        gross_wage=Decimal(raw["gross_wage"]),
        includes_holiday_allowance=raw["includes_holiday_allowance"],
    )


@pytest.mark.parametrize("case", BACK_PAY, ids=[c["id"] for c in BACK_PAY])
def test_worked_case(case: dict[str, Any]) -> None:
    result = back_pay(
        birth_date=case["birth_date"],
        start=case["start"],
        end=case["end"],
        declarations=[_declared(d) for d in case["declarations"]],
        payroll=[_paid(p) for p in case["payroll"]],
    )
    expect = case["expect"]
    assert str(result.shortfall) == expect["shortfall"]
    assert str(result.holiday_allowance) == expect["holiday_allowance"]
    assert str(result.total) == expect["total"]
    got = [
        {
            "start": part.start,
            "end": part.end,
            "age": part.age,
            "source": part.source,
            "hourly_due": str(to_decimal(part.hourly_due)),
            "back_pay": part.to_json()["back_pay"],
        }
        for part in result.parts
    ]
    assert got == expect["parts"]
    assert result.not_computed == ()
    # The evidence names the tables used with their references.
    names = {(u.name, u.effective_from) for u in result.parameters()}
    assert ("holiday_allowance_rate", date(2022, 1, 1)) in names
    assert all(u.reference for u in result.parameters())


def test_paying_the_minimum_exactly_owes_nothing() -> None:
    result = back_pay(
        birth_date=date(1990, 1, 1),
        start=date(2026, 7, 1),
        end=date(2026, 7, 31),
        declarations=[
            Declared(date(2026, 7, 1), Decimal("14.99"), WagePeriod.HOUR, Decimal(40), False)
        ],
    )
    assert result.total == Decimal("0.00")
    assert len(result.parts) == 1


def test_days_without_hours_are_said_not_guessed() -> None:
    result = back_pay(
        birth_date=date(1990, 1, 1),
        start=date(2026, 7, 1),
        end=date(2026, 7, 31),
        declarations=[Declared(date(2026, 7, 1), Decimal("9.00"), WagePeriod.HOUR, None, False)],
    )
    assert result.total == Decimal("0.00")
    assert result.parts == ()
    assert result.not_computed == ("2026-07-01..2026-07-31: hours per week not declared",)


def test_nothing_before_the_start() -> None:
    result = back_pay(
        birth_date=date(1990, 1, 1),
        start=date(2026, 7, 1),
        end=date(2026, 6, 30),
        declarations=[
            Declared(date(2026, 7, 1), Decimal("9.00"), WagePeriod.HOUR, Decimal(40), False)
        ],
    )
    assert result.total == Decimal("0.00")
