"""JSON API v1: what the employer should act on now, and how it wants to be told."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from meldplicht.accounts.dependencies import CurrentEmployerId
from meldplicht.alerts import outbox
from meldplicht.alerts.actions import ActionList, list_actions
from meldplicht.alerts.models import AlertChannel
from meldplicht.core.clock import today
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    problem_responses,
)
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


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: AlertChannel
    target: str = Field(
        min_length=3,
        max_length=500,
        description="The https:// (or http:// for a local receiver) URL, or an e-mail address.",
    )


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    channel: str
    target: str
    active: bool
    created_at: datetime
    secret: str | None = Field(
        None, description="The webhook signing secret: shown once, when subscribing."
    )


class AttemptOut(BaseModel):
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    log: list[AttemptOut]


subscriptions = APIRouter(prefix="/api/v1/alert-subscriptions", tags=["actions"])


@subscriptions.post(
    "",
    status_code=201,
    response_model=SubscriptionOut,
    responses=problem_responses(
        Unauthorized, Forbidden, MalformedRequest, PayloadTooLarge, InvalidRequest
    ),
    summary="Be told of new actions by webhook (HMAC-SHA256 signed) or e-mail",
)
def subscribe(
    body: SubscriptionIn, request: Request, session: SessionDep, employer_id: CurrentEmployerId
) -> SubscriptionOut:
    subscription, secret = outbox.subscribe(
        session, request.app.state.settings, employer_id, body.channel, body.target
    )
    return SubscriptionOut(**subscription.model_dump(), secret=secret)


@subscriptions.get(
    "",
    response_model=list[SubscriptionOut],
    responses=problem_responses(Unauthorized, Forbidden),
    summary="The caller's alert subscriptions",
)
def list_subscriptions(
    session: SessionDep, employer_id: CurrentEmployerId
) -> list[SubscriptionOut]:
    return [
        SubscriptionOut(**s.model_dump()) for s in outbox.subscriptions_of(session, employer_id)
    ]


@subscriptions.delete(
    "/{subscription_id}",
    status_code=204,
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidRequest),
    summary="Stop an alert subscription (what it still had waiting is cancelled; its log stays)",
)
def unsubscribe(
    subscription_id: uuid.UUID, session: SessionDep, employer_id: CurrentEmployerId
) -> Response:
    outbox.unsubscribe(session, employer_id, subscription_id)
    return Response(status_code=204)


deliveries = APIRouter(prefix="/api/v1/alert-deliveries", tags=["actions"])


@deliveries.get(
    "",
    response_model=list[DeliveryOut],
    responses=problem_responses(Unauthorized, Forbidden, InvalidRequest),
    summary="The delivery log: every alert sent or tried, with each attempt",
)
def list_deliveries(
    session: SessionDep,
    employer_id: CurrentEmployerId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    return [
        DeliveryOut(**d.model_dump(), log=[AttemptOut(**a.model_dump()) for a in attempts])
        for d, attempts in outbox.delivery_log(session, employer_id, limit)
    ]
