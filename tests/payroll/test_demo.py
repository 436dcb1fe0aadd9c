"""The demo payroll: believable records for the demo notifications, planted problems found."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from meldplicht.core.config import Settings
from meldplicht.flags.models import Flag
from meldplicht.payroll.demo import add_demo_payroll
from meldplicht.payroll.reconcile import reconcile
from tests.conftest import EmployerWithKey
from tests.payroll.helpers import notify


def test_demo_payroll_reconciles(
    session: Session, settings: Settings, employer: EmployerWithKey
) -> None:
    e = employer.employer
    for bsn in ("111222333", "123456782", "999996356"):
        notify(session, settings, e, bsn=bsn, received=date(2025, 1, 20), start=date(2025, 2, 3))
    counts = add_demo_payroll(
        session,
        seed=1,
        settings=settings,
        today=date(2025, 7, 15),
        underpaid_rate=1.0,
        no_pay_rate=0.0,
        unnotified_per_employer=1.0,
    )
    assert counts["records"] == 3 * 5 + 1
    assert (counts["underpaid"], counts["unnotified"]) == (3, 1)
    reconcile(session, date(2025, 7, 15))
    codes = sorted(f.rule_code for f in session.exec(select(Flag)))
    assert codes == ["MISSING_NOTICE"] + ["PAID_BELOW_MINIMUM_WAGE"] * 3
