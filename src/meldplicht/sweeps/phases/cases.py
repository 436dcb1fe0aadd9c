"""The cases' figures: computed where missing, and recomputed once where a run left them due.

Within a run's phases flags join their cases at once, but each case's figures (its aggregates
and its workers' back-pay estimates) are left due (`cases.figures_deferred`): an employer's
flags arrive over many batches, and recomputing its case after each of them cost most of a
full night. `recompute_due` runs after the last phase and recomputes every due case once;
what a killed run left due is recomputed by the next.
"""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session

from meldplicht.core.clock import utcnow
from meldplicht.flags.sync import forget_cached_facts
from meldplicht.inspection import cases
from meldplicht.sweeps.state import RunState

log = logging.getLogger("meldplicht.sweeps")


def uncomputed(state: RunState) -> None:
    """Cases opened without their figures (by migration 0011, or by a signal) get them;
    a case that fails is logged and recorded, and the others go on."""
    computed, tried = 0, set[uuid.UUID]()
    while True:
        with Session(state.engine, expire_on_commit=False) as session, session.begin():
            # Failed cases stay uncomputed: looked past, not tried again in this run.
            found = cases.uncomputed(session, state.batch_size + len(tried))
            batch = [c for c in found if c.id not in tried][: state.batch_size]
            for case in batch:
                tried.add(case.id)
                try:
                    with session.begin_nested():
                        cases.recompute_case(session, case, state.as_of)
                    computed += 1
                except Exception as exc:
                    log.error("sweep: case %s failed", case.id, exc_info=exc)
                    state.record_error("case", case.id, exc)
            if not batch:
                break
            state.save_progress(session, None)
        state.after_batch("cases")
        if len(batch) < state.batch_size:
            break
    state.tally.extra["cases_computed"] = computed


def due(state: RunState) -> None:
    """Recompute the figures of every case left due, a batch of cases per transaction."""
    with Session(state.engine) as session:
        total = cases.figures_due(session)
    done = 0
    state.report("cases", 0, total)
    while True:
        with Session(state.engine, expire_on_commit=False) as session:
            taken = cases.recompute_due(session, state.as_of, utcnow())
            if not taken:
                break
            state.save_progress(session, None)
            session.commit()
            forget_cached_facts(session)
        done += taken
        state.tally.extra["cases_recomputed"] = done
        state.report("cases", done, total)
        state.after_batch("cases")
