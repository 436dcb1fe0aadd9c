"""Fixtures for the rules tests; makes `src/` importable when the package is not installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:  # an editable install makes this a no-op
    sys.path.insert(0, str(SRC))

from meldplicht.rules.params import Parameters, get_parameters  # noqa: E402

CASES = Path(__file__).parent / "cases"


@pytest.fixture(scope="session")
def params() -> Parameters:
    return get_parameters()
