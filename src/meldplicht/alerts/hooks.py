"""The work that follows a sweep, in its own transaction: the sweep's verdicts are stored first.

Today: close the notifications whose notified termination took effect (the day after the
notified end date). The employer alerts outbox is meant to be filled and processed here too.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.notifications import changes

log = logging.getLogger("meldplicht.sweeps")


def after_sweep(engine: Engine, as_of: date) -> dict[str, int]:
    """Run the after-sweep steps as of `as_of`; a failure is logged, never undoes the sweep."""
    counts: dict[str, int] = {}
    try:
        with Session(engine) as session, session.begin():
            counts["terminations_settled"] = changes.settle_terminations(session, as_of)
    except Exception:
        log.exception("after-sweep steps as of %s failed", as_of)
    return counts
