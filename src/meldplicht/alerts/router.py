"""JSON API v1: what the employer should act on now."""

from __future__ import annotations

from fastapi import APIRouter, Request

from meldplicht.accounts.dependencies import CurrentEmployerId
from meldplicht.alerts.actions import ActionList, list_actions
from meldplicht.core.clock import today
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden, Unauthorized, problem_responses
from meldplicht.notifications.router import language

router = APIRouter(prefix="/api/v1/actions", tags=["actions"])


@router.get(
    "",
    response_model=ActionList,
    responses=problem_responses(Unauthorized, Forbidden),
    summary="What the caller should act on now (findings it can put right, expiring documents)",
)
def get_actions(
    request: Request, session: SessionDep, employer_id: CurrentEmployerId
) -> ActionList:
    return list_actions(session, employer_id, today(), language(request))
