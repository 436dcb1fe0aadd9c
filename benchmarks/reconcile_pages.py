"""Seconds per reconciliation page, for one phase: K pages from the phase's start in one
transaction that is rolled back (the database is left as it was), with the code on the path.

    PYTHONPATH=benchmarks/.work/src_9a8b03c/src MELDPLICHT_DATABASE_URL=sqlite:///... \\
        .venv/bin/python benchmarks/reconcile_pages.py notifications 8
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date

from sqlmodel import Session

import meldplicht
from meldplicht.core.config import get_settings
from meldplicht.core.db import create_db_engine
from meldplicht.flags.sync import forget_cached_facts
from meldplicht.models import import_all_models
from meldplicht.payroll.reconcile import reconcile

import_all_models()
phase, pages = sys.argv[1], int(sys.argv[2])
engine = create_db_engine(get_settings().database_url)
times = []
with Session(engine, expire_on_commit=False) as session:
    cursor = f"{phase}:"
    for _ in range(pages):
        t = time.perf_counter()
        counts = reconcile(session, date(2026, 3, 10), cursor=cursor, batch_size=500, max_batches=1)
        times.append(round(time.perf_counter() - t, 3))
        forget_cached_facts(session)
        cursor = counts.cursor
    session.rollback()
print(json.dumps({"code": meldplicht.__file__, "phase": phase, "page_seconds": times}))
