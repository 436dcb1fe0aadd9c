"""The planted data set: exactly the planted problems become flags, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from meldplicht.core.config import Settings
from meldplicht.flags.models import Flag, FlagSource, FlagStatus
from meldplicht.payroll.models import PayrollRecord
from meldplicht.payroll.reconcile import reconcile
from tests.conftest import EmployerWithKey
from tests.payroll.helpers import deliver, month, notify, pay, row, terminate

AS_OF = date(2025, 6, 30)
RECEIVED = date(2025, 1, 20)  # a Monday, two weeks before the start: on time
START = date(2025, 2, 3)

OK = "111222333"
UNDERPAID = "123456782"
UNNOTIFIED = "999996356"
NO_PAY = "999993653"
AFTER_END = "999990019"


@pytest.fixture
def planted(session: Session, settings: Settings, employer: EmployerWithKey) -> None:
    e = employer.employer
    for bsn in (OK, UNDERPAID, NO_PAY):
        notify(session, settings, e, bsn=bsn, received=RECEIVED, start=START)
    leaver = notify(session, settings, e, bsn=AFTER_END, received=RECEIVED, start=START)
    terminate(session, settings, e, leaver, end=date(2025, 3, 31), received=date(2025, 3, 20))
    rows = []
    for m in (2, 3, 4, 5):
        first, last = month(2025, m)
        rows.append(row(OK, first, last, "160", pay(160, "16.50")))
        hourly = "12.00" if m == 3 else "16.50"  # March: below the 14.06 minimum (age 29)
        rows.append(row(UNDERPAID, first, last, "160", pay(160, hourly)))
        if m <= 4:
            rows.append(row(AFTER_END, first, last, "152", pay(152, "16.50")))
    first, last = month(2025, 4)
    rows.append(row(UNNOTIFIED, first, last, "120", pay(120, "16.50"), nationality="UKR"))
    result = deliver(session, settings, rows)
    assert result.counts["rejected"] == 0, result.rejected_rows


def test_planted_cases_yield_exactly_their_flags(session: Session, planted: None) -> None:
    assert session.exec(select(Flag)).all() == []  # nothing from intake: all on time and fair
    counts = reconcile(session, AS_OF)
    assert counts.errors == 0
    assert counts.cursor is None
    codes = sorted((f.rule_code, f.source) for f in session.exec(select(Flag)))
    assert codes == sorted(
        [
            ("MISSING_NOTICE", FlagSource.PAYROLL),
            ("NO_PAYROLL_AFTER_START", FlagSource.PAYROLL),
            ("PAID_AFTER_TERMINATION", FlagSource.PAYROLL),
            ("PAID_BELOW_MINIMUM_WAGE", FlagSource.PAYROLL),
        ]
    )
    by_rule = {f.rule_code: f for f in session.exec(select(Flag))}
    missing = by_rule["MISSING_NOTICE"]
    record = session.get(PayrollRecord, uuid.UUID(missing.subject_id))
    assert record is not None
    assert record.bsn_last3 == "356"
    assert missing.person_hash == record.bsn_hash
    assert "120 hours paid for 1 April 2025 - 30 April 2025" in missing.message_en
    below = by_rule["PAID_BELOW_MINIMUM_WAGE"]
    assert below.evidence["age"] == 29
    assert below.evidence["birth_date_source"] == "notification"
    assert below.evidence["minimum_per_hour"] == "14.06"
    assert "EUR 1920.00 for 160 hours" in below.message_en
    assert "EUR 329.60 more than paid" in below.message_en
    after = by_rule["PAID_AFTER_TERMINATION"]
    assert "after the end date 31 March 2025" in after.message_en
    assert after.notification_id is None
    no_pay = by_rule["NO_PAYROLL_AFTER_START"]
    assert no_pay.notification_id is not None
    assert no_pay.evidence["deadline"] == "2025-03-17"
    assert no_pay.employer_id is not None


def test_reconcile_is_idempotent(session: Session, planted: None) -> None:
    first = reconcile(session, AS_OF)
    again = reconcile(session, AS_OF)
    assert first.opened == 4
    assert (again.opened, again.refreshed, again.cleared) == (0, 4, 0)
    assert len(session.exec(select(Flag)).all()) == 4


def test_batch_by_batch_gives_the_same_flags(session: Session, planted: None) -> None:
    cursor: str | None = None
    batches = 0
    while True:
        counts = reconcile(session, AS_OF, cursor=cursor, batch_size=3, max_batches=1)
        batches += 1
        cursor = counts.cursor
        if cursor is None:
            break
        assert cursor.startswith(("records:", "notifications:"))
    assert batches > 4
    assert sorted(f.rule_code for f in session.exec(select(Flag))) == [
        "MISSING_NOTICE",
        "NO_PAYROLL_AFTER_START",
        "PAID_AFTER_TERMINATION",
        "PAID_BELOW_MINIMUM_WAGE",
    ]


def test_corrected_payroll_clears_the_flag(
    session: Session, settings: Settings, planted: None
) -> None:
    reconcile(session, AS_OF)
    first, last = month(2025, 3)
    result = deliver(session, settings, [row(UNDERPAID, first, last, "160", pay(160, "16.50"))])
    assert result.counts["updated"] == 1
    counts = reconcile(session, AS_OF)
    assert counts.cleared == 1
    flag = session.exec(select(Flag).where(Flag.rule_code == "PAID_BELOW_MINIMUM_WAGE")).one()
    assert flag.status == FlagStatus.CLEARED


def test_as_of_before_the_deadline_has_no_missing_pay(session: Session, planted: None) -> None:
    reconcile(session, date(2025, 3, 10))
    assert "NO_PAYROLL_AFTER_START" not in {f.rule_code for f in session.exec(select(Flag))}


def test_unnotified_work_without_a_sign_of_protection_is_unverified_not_missing(
    session: Session, settings: Settings, planted: None
) -> None:
    """Only data pointing to temporary protection make an unnotified period MISSING_NOTICE;
    a TWV holder needs no notice; nothing stated is a low 'unverified' finding."""
    first, last = month(2025, 5)
    rows = [
        row("100000009", first, last, "100", pay(100, "16.50"), nationality="IND"),
        row("100000022", first, last, "100", pay(100, "16.50"), document_type="TWV"),
        row("100000034", first, last, "100", pay(100, "16.50"), document_type="sticker"),
    ]
    result = deliver(session, settings, rows)
    assert result.counts["rejected"] == 0, result.rejected_rows
    reconcile(session, AS_OF)
    found = {
        (session.get(PayrollRecord, uuid.UUID(f.subject_id)) or PayrollRecord()).bsn_last3: f
        for f in session.exec(select(Flag))
        if f.rule_code in ("MISSING_NOTICE", "WORK_AUTHORISATION_UNVERIFIED")
        and f.message_en.find("May 2025") >= 0
    }
    assert found["009"].rule_code == "WORK_AUTHORISATION_UNVERIFIED"
    assert found["009"].severity == "low"
    assert "work permit (TWV)" in found["009"].message_en
    assert "022" not in found
    assert found["034"].rule_code == "MISSING_NOTICE"


def test_cash_payment_reaches_the_queue(
    session: Session, settings: Settings, planted: None
) -> None:
    first, last = month(2025, 5)
    rows = [row(OK, first, last, "160", pay(160, "16.50"), paid_in_cash="ja")]
    result = deliver(session, settings, rows)
    assert result.counts["rejected"] == 0, result.rejected_rows
    record = session.exec(
        select(PayrollRecord).where(
            PayrollRecord.period_start == first, PayrollRecord.bsn_last3 == OK[-3:]
        )
    ).one()
    assert record.paid_in_cash is True
    reconcile(session, AS_OF)
    cash = [f for f in session.exec(select(Flag)) if f.rule_code == "PAID_IN_CASH"]
    assert [f.subject_id for f in cash] == [str(record.id)]


def test_a_notification_page_reads_payroll_only_for_its_own_employers(
    session: Session, planted: None
) -> None:
    """The notification pages of a full run are linear: no page reads the payroll of every
    employer (the old page re-ran SELECT DISTINCT employer_lhn FROM payroll_record, once a
    page, N pages: N squared). Every statement of a page that reads payroll_record is bound
    to the page's loonheffingennummers."""
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        counts = reconcile(session, AS_OF, cursor="notifications:", batch_size=2, max_batches=1)
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    assert counts.cursor is not None
    assert counts.cursor.startswith("notifications:")
    reads = [s for s in statements if "FROM payroll_record" in s and s.startswith("SELECT")]
    assert reads, "the page looked at no payroll at all"
    for statement in reads:
        for part in statement.split("FROM payroll_record")[1:]:
            where = part.lstrip()
            assert where.startswith("WHERE payroll_record.employer_lhn"), statement
