"""How the wage is paid: the minimum wage into an account in the worker's own name.

Wet minimumloon en minimumvakantiebijslag art. 7a: the wage, as far as it does not exceed the
minimum wage, is paid into a bank account in the worker's name, never in cash. The law is
written here once: the notification's check below and the payroll's PAID_IN_CASH (checks/
payroll.py) both state it with `CASH_BASIS` and `CASH_LAW_EN` / `CASH_LAW_NL`.
"""

from __future__ import annotations

from meldplicht.rules.checks.base import (
    Context,
    Explanation,
    RuleInfo,
    Verdict,
    explains,
    rule,
    verdict,
)
from meldplicht.rules.facts import Severity

WML = "https://wetten.overheid.nl/BWBR0002638"
CASH_BASIS = (
    "Wet minimumloon en minimumvakantiebijslag art. 7a: the wage, as far as it does not "
    f"exceed the minimum wage, is paid into a bank account in the worker's name, not in cash; "
    f"{WML}"
)
CASH_LAW_EN = (
    "The law requires the wage, up to the minimum wage, to be paid into a bank account in the "
    "worker's own name (Wet minimumloon en minimumvakantiebijslag art. 7a)."
)
CASH_LAW_NL = (
    "De wet eist dat het loon, tot het minimumloon, wordt betaald op een bankrekening op naam "
    "van de werknemer (art. 7a Wet minimumloon en minimumvakantiebijslag)."
)

CASH_DECLARED = RuleInfo(
    code="CASH_PAYMENT_DECLARED",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=CASH_BASIS,
    title_nl="Melding: loon wordt contant betaald",
    title_en="Notification: the wage is paid in cash",
    description_en=(
        "The notification states that the wage is paid in cash: the minimum wage must be paid "
        "into an account in the worker's own name. Not stated or no is no finding."
    ),
)


@rule(CASH_DECLARED)
def check_cash_payment_declared(ctx: Context) -> list[Verdict]:
    # Not bound to the judged day: what the employer declared holds for the whole employment.
    if not ctx.facts.paid_in_cash:
        return []
    return verdict(CASH_DECLARED)


@explains(CASH_DECLARED)
def explain_cash_payment_declared(_ctx: Context, _v: Verdict) -> Explanation:
    return Explanation(
        message_en=f"The notification states that the wage is paid in cash. {CASH_LAW_EN}",
        message_nl=f"Volgens de melding wordt het loon contant betaald. {CASH_LAW_NL}",
        evidence={
            "paid_in_cash": True,
            "arithmetic": "the notification states payment in cash",
            "arithmetic_nl": "de melding vermeldt contante betaling",
        },
    )
