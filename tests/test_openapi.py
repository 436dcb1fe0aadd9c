"""The committed openapi/openapi.json must match what the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from meldplicht.openapi_export import render

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_openapi_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_operation_ids_are_stable_and_unique() -> None:
    spec = json.loads(render())
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert "notifications-create_notification" in ids


def test_every_write_declares_its_problems() -> None:
    spec = json.loads(render())
    create = spec["paths"]["/api/v1/notifications"]["post"]["responses"]
    for status in ("401", "403", "409", "413", "422"):
        assert status in create, status
        assert "application/problem+json" in create[status]["content"]
