"""What every write of a notification needs besides its payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from meldplicht.core.crypto import PersonalDataCipher
from meldplicht.core.security import Principal
from meldplicht.notifications.models import (
    Channel,
)


@dataclass(frozen=True, slots=True)
class Context:
    """What every write needs besides its payload."""

    actor: Principal
    cipher: PersonalDataCipher
    channel: Channel
    received_at: datetime
