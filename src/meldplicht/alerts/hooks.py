"""The work that follows a sweep, in its own transaction: the sweep's verdicts are stored first.

Close the notifications whose notified termination took effect (the day after the notified
end date), then fill the employer alert outbox with the new actions and send what is due.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.alerts import outbox
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.notifications import changes

log = logging.getLogger("meldplicht.sweeps")


def after_sweep(engine: Engine, as_of: date, settings: Settings) -> dict[str, int]:
    """Run the after-sweep steps as of `as_of`; a failure is logged, never undoes the sweep."""
    counts: dict[str, int] = {}
    try:
        with Session(engine) as session, session.begin():
            counts["terminations_settled"] = changes.settle_terminations(session, as_of)
        with Session(engine) as session, session.begin():
            counts["alerts_queued"] = outbox.enqueue(session, as_of)
        counts.update(deliver(engine, settings))
    except Exception:
        log.exception("after-sweep steps as of %s failed", as_of)
    return counts


def deliver(engine: Engine, settings: Settings) -> dict[str, int]:
    """Send the alert deliveries that are due now (also `meldplicht alerts deliver`)."""
    with Session(engine) as session, session.begin():
        return outbox.deliver_due(session, settings, utcnow())
