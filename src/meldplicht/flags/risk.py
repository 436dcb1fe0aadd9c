"""The risk score of a flag, with its breakdown, so an inspector can see why it ranks high.

score = (severity points + workers points + history points) x sector weight, rounded.
Every part is product policy (documented in docs/RULES.md), not law.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SEVERITY_POINTS = {"high": 60, "medium": 30, "low": 10, "info": 2}
WORKER_POINTS_EACH = 2
WORKER_POINTS_MAX = 20
HISTORY_POINTS_EACH = 5  # per violation confirmed at this employer before
HISTORY_POINTS_MAX = 20
DEFAULT_TABLE = Path(__file__).with_name("sector_risk.yaml")


@dataclass(frozen=True, slots=True)
class SectorTable:
    default: Decimal
    prefixes: dict[str, tuple[Decimal, str]]

    def weight_for(self, sbi_code: str | None) -> tuple[Decimal, str | None]:
        # SBI 2008 and SBI 2025 codes alike; "78.20.1" is read as 78201.
        sbi_code = "".join(ch for ch in sbi_code if ch.isdigit()) if sbi_code else None
        if sbi_code:
            for length in range(len(sbi_code), 1, -1):
                entry = self.prefixes.get(sbi_code[:length])
                if entry is not None:
                    return entry
        return self.default, None


@lru_cache(maxsize=4)
def load_sector_table(path: Path = DEFAULT_TABLE) -> SectorTable:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    prefixes = {
        str(prefix): (Decimal(str(entry["weight"])), str(entry["sector"]))
        for prefix, entry in raw.get("prefixes", {}).items()
    }
    return SectorTable(default=Decimal(str(raw.get("default", 1))), prefixes=prefixes)


def score(
    *,
    severity: str,
    workers_affected: int,
    confirmed_violations: int,
    sbi_code: str | None,
    table: SectorTable | None = None,
) -> tuple[int, dict[str, Any]]:
    table = table or load_sector_table()
    severity_points = SEVERITY_POINTS.get(severity, 0)
    worker_points = min(WORKER_POINTS_MAX, WORKER_POINTS_EACH * max(0, workers_affected - 1))
    history_points = min(HISTORY_POINTS_MAX, HISTORY_POINTS_EACH * confirmed_violations)
    weight, sector = table.weight_for(sbi_code)
    base = severity_points + worker_points + history_points
    total = int((Decimal(base) * weight).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    breakdown = {
        "severity": {"value": severity, "points": severity_points},
        "workers_affected": {"value": workers_affected, "points": worker_points},
        "employer_history": {
            "confirmed_violations": confirmed_violations,
            "points": history_points,
        },
        "sector": {"sbi_code": sbi_code, "sector": sector, "weight": str(weight)},
        "formula": f"({severity_points} + {worker_points} + {history_points}) x {weight} = {total}",
    }
    return total, breakdown
