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

TRIES = 9
# Every path does one Argon2 verify (tens of milliseconds); before, a locked account answered
# hundreds of times faster than an unknown one. The tries take turns across the paths, so a
# busy moment on the shared test machine slows them all alike; a factor 3 leaves room for it.
MAX_RATIO = 3.0


def test_locked_unknown_disabled_and_wrong_take_the_same_time(session: Session) -> None:
    locked = make_user(session, "timing_locked", Role.INSPECTOR)
    locked.locked_until = utcnow() + timedelta(days=1)
    disabled = make_user(session, "timing_disabled", Role.INSPECTOR)
    disabled.disabled = True
    make_user(session, "timing_wrong", Role.INSPECTOR)
    session.flush()
    authenticate(session, "timing_unknown", "warm-up")  # the dummy hash is made once

    # The wrong-password account locks after a few tries; the later ones are locked answers.
    paths = {
        "locked (right password)": ("timing_locked", PASSWORD),
        "unknown": ("timing_unknown", PASSWORD),
        "disabled": ("timing_disabled", PASSWORD),
        "wrong password": ("timing_wrong", "not the password"),
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(TRIES):
        for name, (username, password) in paths.items():
            start = time.perf_counter()
            assert authenticate(session, username, password) is None
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    slowest, fastest = max(medians.values()), min(medians.values())
    assert slowest / fastest < MAX_RATIO, medians
