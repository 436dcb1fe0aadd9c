"""A sweep process that pauses after each committed batch (the crash and concurrency tests).

    python -m tests.sweeps.paused_sweep URL AS_OF BATCH_SIZE PAUSE_SECONDS

The pause is injected through `run_sweep(after_batch=...)`; prints what `meldplicht sweep`
prints when another sweep holds the lock.
"""

from __future__ import annotations

import sys
import time
from datetime import date

from meldplicht.core.db import create_db_engine
from meldplicht.sweeps.lock import SweepAlreadyRunning
from meldplicht.sweeps.sweep import run_sweep
from tests.sweeps.conftest import settings_for


def main(url: str, as_of: str, batch_size: str, pause: str) -> int:
    engine = create_db_engine(url)
    seconds = float(pause)
    try:
        run = run_sweep(
            engine,
            date.fromisoformat(as_of),
            batch_size=int(batch_size),
            settings=settings_for(url),
            after_batch=lambda _phase: time.sleep(seconds),
        )
    except SweepAlreadyRunning as exc:
        sys.stdout.write(f"{exc}\n")
        return 0
    finally:
        engine.dispose()
    sys.stdout.write(f"{run.status} {run.counts}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
