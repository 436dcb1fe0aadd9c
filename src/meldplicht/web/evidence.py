"""How a flag is shown to the inspector: its evidence as the calculation one would check by
hand (for the rules that compute money) or as labelled rows, the legal parameters it relied
on, the breakdown of its risk score, and its audit trail in words. Presentation only: no
queries; every text comes from web/i18n.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from meldplicht.inspection.schemas import FlagDetail
from meldplicht.rules import wages
from meldplicht.web import i18n
from meldplicht.web.pages import finding_title

# Audit details an inspector reads; the rest (the key, the snooze id) is for the log itself.
AUDIT_DETAILS_SHOWN = ("outcome", "note", "reason", "assignee_id", "until", "rule", "source")


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def parameter_rows(flag: FlagDetail, age: Any, t: i18n.Translator) -> list[dict[str, Any]]:
    """The legal parameters a finding relied on; a wage table shows the amount for the age."""
    rows = []
    for p in flag.parameters:
        value = str(p.get("value", ""))
        if p.get("name") == "wml_hourly" and isinstance(age, int):
            try:
                table = json.loads(value)
                value = str(table.get(wages.age_key(age), value))
            except (ValueError, AttributeError):
                pass
        number = _decimal(value)
        rows.append(
            {
                "name": p.get("name", ""),
                "value": t.number(number) if number is not None else value,
                "effective_from": _iso_day(p.get("effective_from")),
                "reference": p.get("reference", ""),
                "possibly_out_of_date": bool(p.get("possibly_out_of_date")),
            }
        )
    return rows


def _iso_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass(slots=True)
class Step:
    """One line of the calculation: what (a text key and values), the amount, a note."""

    key: str
    amount: str
    values: dict[str, Any] = field(default_factory=dict)
    emphasis: bool = False


def calculation(flag: FlagDetail, t: i18n.Translator) -> list[Step]:
    """The evidence as the inspector would check it by hand, for the rules that compute money.

    Other rules show their evidence as a list (see `evidence_rows`).
    """
    e = flag.evidence
    raw_inputs = e.get("inputs")
    inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
    judged_on = _iso_day(e.get("judged_on"))
    steps: list[Step] = []
    if "declared_hourly" in e and "minimum_hourly" in e:
        amount = _decimal(inputs.get("wage_amount"))
        period = str(inputs.get("wage_period") or "hour")
        steps.append(
            Step(
                "inspector.calc.declared",
                t.money(amount),
                {
                    "period": t.enum("inspector.period", period),
                    "hours": t.number(_decimal(inputs.get("hours_per_week"))),
                    "holiday": t("inspector.calc.incl_holiday")
                    if inputs.get("wage_includes_holiday_allowance")
                    else "",
                },
            )
        )
        steps.append(
            Step("inspector.calc.declared_hourly", t.money(_decimal(e["declared_hourly"])))
        )
        steps.append(
            Step(
                "inspector.calc.minimum",
                t.money(_decimal(e["minimum_hourly"])),
                {"age": e.get("age", ""), "on": t.date(judged_on)},
            )
        )
        steps.append(
            Step(
                "inspector.calc.shortfall_hour",
                t.money(_decimal(e.get("shortfall_per_hour"))),
                emphasis=True,
            )
        )
    elif "paid_per_hour" in e and "minimum_per_hour" in e:
        steps.append(
            Step(
                "inspector.calc.paid",
                t.money(_decimal(e.get("gross_wage"))),
                {
                    "hours": t.number(_decimal(e.get("hours_paid"))),
                    "start": t.date(_iso_day(e.get("period_start"))),
                    "end": t.date(_iso_day(e.get("period_end"))),
                },
            )
        )
        steps.append(Step("inspector.calc.paid_hourly", t.money(_decimal(e["paid_per_hour"]))))
        steps.append(
            Step(
                "inspector.calc.minimum",
                t.money(_decimal(e["minimum_per_hour"])),
                {"age": e.get("age") or "?", "on": t.date(_iso_day(e.get("period_start")))},
            )
        )
        steps.append(
            Step("inspector.calc.due_period", t.money(_decimal(e.get("minimum_due_for_period"))))
        )
        steps.append(
            Step(
                "inspector.calc.shortfall_period",
                t.money(_decimal(e.get("shortfall_for_period"))),
                emphasis=True,
            )
        )
    elif "deduction_monthly" in e and "cap_monthly" in e:
        deduction = _decimal(e["deduction_monthly"])
        cap = _decimal(e["cap_monthly"])
        rate = _decimal(e.get("cap_rate"))
        steps.append(
            Step(
                "inspector.calc.minimum_month",
                t.money(_decimal(e.get("minimum_monthly_due"))),
                {
                    "hours": t.number(_decimal(inputs.get("hours_per_week"))),
                    "on": t.date(judged_on),
                },
            )
        )
        steps.append(
            Step(
                "inspector.calc.cap",
                t.money(cap),
                {"percent": t.number(rate * 100) if rate is not None else "?"},
            )
        )
        steps.append(Step("inspector.calc.deduction", t.money(deduction)))
        steps.append(
            Step(
                "inspector.calc.over_cap",
                t.money(deduction - cap if deduction is not None and cap is not None else None),
                emphasis=True,
            )
        )
    return steps


_EVIDENCE_SKIPPED = {"inputs", "arithmetic", "arithmetic_nl", "legal_basis", "evaluation"}


def evidence_rows(flag: FlagDetail, t: i18n.Translator) -> list[tuple[str, str]]:
    """Every other evidence item as (label, value); labels translated where we have them."""
    rows = []
    for name, value in flag.evidence.items():
        if name in _EVIDENCE_SKIPPED:
            continue
        key = f"inspector.evidence.{name}"
        rows.append((t(key) if t.has(key) else name, t.value(value)))
    return rows


def risk_rows(flag: FlagDetail, t: i18n.Translator) -> list[dict[str, str]]:
    b = flag.risk_breakdown
    rows: list[dict[str, str]] = []
    severity = b.get("severity", {})
    rows.append(
        {
            "label": t("inspector.risk.severity"),
            "value": t.enum("severity", severity.get("value")),
            "points": str(severity.get("points", 0)),
        }
    )
    workers = b.get("workers_affected", {})
    rows.append(
        {
            "label": t("inspector.risk.workers"),
            "value": str(workers.get("value", "")),
            "points": str(workers.get("points", 0)),
        }
    )
    history = b.get("employer_history", {})
    rows.append(
        {
            "label": t("inspector.risk.history"),
            "value": str(history.get("confirmed_violations", 0)),
            "points": str(history.get("points", 0)),
        }
    )
    sector = b.get("sector", {})
    rows.append(
        {
            "label": t("inspector.risk.sector"),
            "value": " · ".join(str(v) for v in (sector.get("sector"), sector.get("sbi_code")) if v)
            or t("common.none"),
            "points": f"× {t.number(_decimal(sector.get('weight', '1')))}",
        }
    )
    return rows


def audit_rows(
    detail: FlagDetail, names: dict[str, str], t: i18n.Translator, lang: str
) -> list[dict[str, Any]]:
    entries = []
    for entry in detail.audit:
        kind, _, ident = entry.actor_id.partition(":")
        if kind == "user":
            who = names.get(ident, entry.actor_id)
        elif kind == "system":
            who = t("inspector.audit.system", source=t.enum("inspector.source", ident))
        else:
            who = entry.actor_id
        details = []
        for name in AUDIT_DETAILS_SHOWN:
            value = entry.details.get(name)
            if value in (None, ""):
                continue
            if name == "outcome":
                text = t.enum("outcome", str(value))
            elif name == "assignee_id":
                text = names.get(str(value), str(value))
            elif name == "rule":
                text = finding_title(str(value), lang)
            elif name == "source":
                text = t.enum("inspector.source", str(value))
            elif name == "until":
                text = t.date(_iso_day(value))
            else:
                text = str(value)
            details.append((t(f"inspector.audit.detail.{name}"), text))
        entries.append(
            {
                "at": entry.at,
                "who": who,
                "role": t.enum("inspector.role", entry.actor_role),
                "action": t.enum("inspector.action", entry.action),
                "action_code": entry.action,
                "details": details,
            }
        )
    return entries
