"""Sign-in takes as long for a locked, unknown, disabled or wrong-password account: the time of
the answer does not reveal which usernames exist (both databases)."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from sqlmodel import Session

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import authenticate
from meldplicht.core.clock import utcnow
from tests.security.conftest import PASSWORD, make_user

TRIES = 7
# Every path does one Argon2 verify (tens of milliseconds); before, a locked account answered
# about 40 times faster than an unknown one. A shared, busy test machine keeps some noise.
MAX_RATIO = 2.0


def median_seconds(session: Session, username: str, password: str) -> float:
    times = []
    for _ in range(TRIES):
        start = time.perf_counter()
        assert authenticate(session, username, password) is None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_locked_unknown_disabled_and_wrong_take_the_same_time(session: Session) -> None:
    locked = make_user(session, "timing_locked", Role.INSPECTOR)
    locked.locked_until = utcnow() + timedelta(days=1)
    disabled = make_user(session, "timing_disabled", Role.INSPECTOR)
    disabled.disabled = True
    make_user(session, "timing_wrong", Role.INSPECTOR)
    session.flush()
    median_seconds(session, "timing_unknown", "warm-up")  # the dummy hash is made once

    medians = {
        "locked (right password)": median_seconds(session, "timing_locked", PASSWORD),
        "unknown": median_seconds(session, "timing_unknown", PASSWORD),
        "disabled": median_seconds(session, "timing_disabled", PASSWORD),
        "wrong password": median_seconds(session, "timing_wrong", "not the password"),
    }
    # The wrong-password account locks after a few tries; the later ones are locked answers.
    slowest, fastest = max(medians.values()), min(medians.values())
    assert slowest / fastest < MAX_RATIO, medians
