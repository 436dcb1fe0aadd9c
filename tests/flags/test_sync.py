"""The flags package stands below the domains that sync flags, and never syncs outside a case."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlmodel import Session, select

from meldplicht.core.clock import today, utcnow
from meldplicht.flags import sync
from meldplicht.flags.models import Flag, FlagSource, SubjectType
from meldplicht.inspection.models import Case
from meldplicht.rules.facts import Finding, Severity
from tests.conftest import make_employer

# The packages that sync flags, or that flags' callers live in: flags may import none of them.
ABOVE = (
    "meldplicht.notifications",
    "meldplicht.inspection",
    "meldplicht.sweeps",
    "meldplicht.payroll",
    "meldplicht.registers",
    "meldplicht.web",
)


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_flags_import_no_package_above_them() -> None:
    loaded = _python(
        "import sys\n"
        "import meldplicht.flags.geo, meldplicht.flags.models, meldplicht.flags.risk\n"
        "import meldplicht.flags.sync\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('meldplicht.'))))"
    ).split()
    assert "meldplicht.flags.sync" in loaded
    assert [m for m in loaded if m.startswith(ABOVE)] == []


@pytest.mark.parametrize(
    "entry",
    [
        "import meldplicht.cli",
        "import meldplicht.app",
        "from meldplicht.models import import_all_models; import_all_models()",
    ],
)
def test_every_entry_point_sets_the_case_joiner(entry: str) -> None:
    # `meldplicht import` reaches intake and `meldplicht sweep` the sweep without a router:
    # the command line, the app and import_all_models (the sweep's first step) set it.
    joiner = _python(f"{entry}\nfrom meldplicht.flags import sync\nprint(sync._case_joiner)")
    assert "join_flags" in joiner


def _finding() -> Finding:
    return Finding(
        code="LATE_NOTICE",
        severity=Severity.MEDIUM,
        rule_version="1.0.0",
        legal_basis="test basis",
        message_nl="testbevinding",
        message_en="test finding",
        evidence={"made_up": True},
    )


def test_a_sync_ends_with_its_flags_in_the_employers_case(session: Session) -> None:
    employer = make_employer(session, "90000017").employer
    counts = sync.sync_flags(
        session,
        sync.Subject(type=SubjectType.EMPLOYER, id=uuid.uuid4().hex, employer_id=employer.id),
        [_finding()],
        scope={"LATE_NOTICE"},
        source=FlagSource.SWEEP,
        as_of=today(),
        now=utcnow(),
    )
    flag = session.get(Flag, counts.flag_ids[0])
    assert flag is not None
    case = session.exec(select(Case).where(Case.employer_id == employer.id)).one()
    assert flag.case_id == case.id
    assert case.active_flags == 1


def test_a_sync_with_no_case_joiner_is_refused(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    employer = make_employer(session, "90000029").employer
    monkeypatch.setattr(sync, "_case_joiner", None)
    with pytest.raises(RuntimeError, match="no case joiner"):
        sync.sync_flags(
            session,
            sync.Subject(type=SubjectType.EMPLOYER, id=uuid.uuid4().hex, employer_id=employer.id),
            [_finding()],
            scope={"LATE_NOTICE"},
            source=FlagSource.SWEEP,
            as_of=today(),
            now=utcnow(),
        )
