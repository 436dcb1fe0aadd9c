"""GET /api/v1/inspection/sweeps: the recorded sweep runs, for inspectors and above."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from meldplicht.accounts.dependencies import require_roles
from meldplicht.accounts.models import Role
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden, InvalidRequest, Unauthorized, problem_responses
from meldplicht.core.security import Principal
from meldplicht.sweeps import runs as sweep
from meldplicht.sweeps.schemas import SweepRunOut, SweepRunPage

router = APIRouter(prefix="/api/v1/inspection/sweeps", tags=["sweeps"])

Inspector = Annotated[Principal, require_roles(Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN)]
AUTH_ERRORS = (Unauthorized, Forbidden)


@router.get(
    "",
    response_model=SweepRunPage,
    responses=problem_responses(*AUTH_ERRORS, InvalidRequest),
    summary="List the sweep runs, newest first",
)
def list_sweeps(
    session: SessionDep,
    _principal: Inspector,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SweepRunPage:
    runs, next_cursor = sweep.list_runs(session, cursor=cursor, limit=limit)
    return SweepRunPage(items=[SweepRunOut.of(r) for r in runs], next_cursor=next_cursor)


@router.get(
    "/{run_id}",
    response_model=SweepRunOut,
    responses=problem_responses(*AUTH_ERRORS, sweep.SweepRunNotFound, InvalidRequest),
    summary="One sweep run with its counts and failing items",
)
def get_sweep(run_id: uuid.UUID, session: SessionDep, _principal: Inspector) -> SweepRunOut:
    return SweepRunOut.of(sweep.get_run(session, run_id))
