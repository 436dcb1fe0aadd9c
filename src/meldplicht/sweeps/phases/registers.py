"""The business-register phase: stale answers looked up again, every employer judged."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from meldplicht.registers.kvk import OfflineRegister, register_for
from meldplicht.registers.service import refresh_registers
from meldplicht.sweeps.state import RunState


def run(state: RunState) -> None:
    register = register_for(state.settings)

    def step(session: Session, cursor: str | None) -> Any:
        return refresh_registers(
            session,
            register,
            state.as_of,
            cursor=cursor,
            batch_size=state.batch_size,
            max_batches=1,
            only_answered=isinstance(register, OfflineRegister),
        )

    state.batched("register", step)
