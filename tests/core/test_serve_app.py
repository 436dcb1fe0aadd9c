"""The app `serve` runs: checked against the schema, and with its start-up objects frozen out
of the garbage collector's full passes (a plain app, as tests build, is left alone)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meldplicht.app import create_checked_app
from meldplicht.core.config import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process must not keep every object it has made so far


@pytest.mark.usefixtures("unfrozen")
def test_the_served_app_freezes_what_exists_at_start_up(settings: Settings) -> None:
    app = create_checked_app(settings)
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200


@pytest.mark.usefixtures("unfrozen")
def test_a_plain_app_freezes_nothing(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
