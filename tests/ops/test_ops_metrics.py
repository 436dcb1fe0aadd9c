"""/metrics: request counts by route template, the helpers, flags by status, multiprocess."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from meldplicht.core import metrics
from tests.conftest import EmployerWithKey
from tests.factories import notification_body
from tests.ops.servers import base_env, fresh_database, running_server


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in exposition text (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_requests_are_counted_by_route_template(
    client: TestClient, employer: EmployerWithKey
) -> None:
    route = "/api/v1/notifications/{notification_id}"
    before = sample(
        client.get("/metrics").text, "meldplicht_http_requests_total", route=route, status="404"
    )
    for _ in range(3):
        client.get(
            "/api/v1/notifications/00000000-0000-0000-0000-000000000000",
            headers=employer.headers,
        )
    text = client.get("/metrics").text
    after = sample(text, "meldplicht_http_requests_total", route=route, status="404")
    assert after - before == 3
    assert "meldplicht_http_request_duration_seconds_bucket" in text
    # Unknown paths share one label instead of one series each.
    client.get("/no/such/path/123")
    assert 'route="<unmatched>"' in client.get("/metrics").text


def test_helpers_show_up(client: TestClient) -> None:
    metrics.notification_received("api")
    metrics.finding_emitted("BELOW_MINIMUM_WAGE")
    metrics.findings_emitted(["LATE_NOTICE", "LATE_NOTICE"], source="sweep")
    metrics.sweep_finished("succeeded", 12.5, {"checked": 40, "flags_opened": 2})
    metrics.register_call("kvk", ok=False, duration_seconds=0.2)
    text = client.get("/metrics").text
    assert sample(text, "meldplicht_notifications_received_total", channel="api") >= 1
    assert sample(text, "meldplicht_findings_total", rule="LATE_NOTICE", source="sweep") >= 2
    assert sample(text, "meldplicht_sweep_runs_total", status="succeeded") >= 1
    assert sample(text, "meldplicht_sweep_items_total", kind="checked") >= 40
    assert sample(text, "meldplicht_register_calls_total", register="kvk", outcome="failed") >= 1


def test_flags_by_status_are_read_from_the_database(
    database_url: str, tmp_path: Path, db_backend: str
) -> None:
    # The gauge comes from the database at scrape time (committed data), so it gets its own.
    with fresh_database(db_backend, tmp_path) as url:
        from sqlmodel import Session

        from meldplicht.app import create_app
        from meldplicht.core.config import Environment, Settings
        from meldplicht.core.db import create_db_engine
        from tests.conftest import make_employer

        engine = create_db_engine(url)
        with Session(engine, expire_on_commit=False) as s, s.begin():
            who = make_employer(s, "12345678")
        settings = Settings(
            environment=Environment.TEST,
            database_url=url,
            _env_file=None,
        )
        with TestClient(create_app(settings, engine)) as client:
            low = {"amount": "5.00", "period": "hour", "includes_holiday_allowance": False}
            r = client.post(
                "/api/v1/notifications", json=notification_body(wage=low), headers=who.headers
            )
            assert r.status_code == 201, r.text
            text = client.get("/metrics").text
        engine.dispose()
    assert sample(text, "meldplicht_database_up") == 1
    assert sample(text, "meldplicht_flags", status="open") >= 1


@pytest.mark.slow
def test_multiprocess_workers_are_summed(tmp_path: Path) -> None:
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    with fresh_database("sqlite", tmp_path) as url:
        env = base_env(url, PROMETHEUS_MULTIPROC_DIR=str(prom_dir))
        with running_server(env, tmp_path, workers=2) as server:
            sent = 0
            # A new connection per request, until both workers have served some.
            while sent < 30 or (len(list(prom_dir.glob("counter_*.db"))) < 2 and sent < 300):
                r = httpx.get(f"{server.url}/api/v1/rules", headers={"Connection": "close"})
                assert r.status_code == 200
                sent += 1
            scrapes = [
                httpx.get(f"{server.url}/metrics", headers={"Connection": "close"}).text
                for _ in range(4)
            ]
    assert len(list(prom_dir.glob("counter_*.db"))) >= 2
    # Whichever worker answers the scrape, it reports the requests of both.
    counts = {sample(t, "meldplicht_http_requests_total", route="/api/v1/rules") for t in scrapes}
    assert counts == {float(sent)}
    assert re.search(r"meldplicht_database_up 1", scrapes[0])
