"""The admissions phase: LENDER_NOT_ADMITTED from the Wtta admission register."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from meldplicht.registers.admission import refresh_admissions
from meldplicht.registers.nau import OfflineAdmissionRegister, admission_register_for
from meldplicht.sweeps.state import RunState


def run(state: RunState) -> None:
    """Nothing when the register is offline: no answers, so no verdicts."""
    register = admission_register_for(state.settings)
    if isinstance(register, OfflineAdmissionRegister):
        return  # the flags stay as they were

    def step(session: Session, cursor: str | None) -> Any:
        return refresh_admissions(
            session,
            register,
            state.as_of,
            cursor=cursor,
            batch_size=state.batch_size,
            max_batches=1,
        )

    state.batched("admission", step)
