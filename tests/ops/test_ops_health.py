"""/healthz and /readyz on SQLite and PostgreSQL: the JSON, the reasons, the status codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from meldplicht.app import create_app
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Environment, Settings
from meldplicht.core.migrations import alembic_config
from meldplicht.ops.readiness import (
    check_parameters,
    check_sweep,
    readiness,
)
from meldplicht.sweeps.models import SweepRun
from tests.ops.servers import fresh_database


def test_healthz_is_plain_and_needs_no_auth(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert "X-Request-ID" in r.headers


def test_readyz_reports_every_check_with_a_reason(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200  # degraded still serves
    body = r.json()
    assert body["status"] in ("ok", "degraded")
    assert set(body["checks"]) == {"database", "schema", "sweep", "parameters"}
    for check in body["checks"].values():
        assert check["status"] in ("ok", "degraded", "down", "skipped")
        assert check["reason"]
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["schema"]["status"] == "ok"
    indexed = {s["name"]: s for s in body["checks"]["parameters"]["details"]["indexed"]}
    assert indexed["wml_hourly"]["newest_entry"] == "2026-07-01"
    assert indexed["wml_hourly"]["next_expected"] == "2027-01-01"


def test_health_routes_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)


class TestParameters:
    def test_minimum_wage_table_past_its_end_is_degraded_and_says_so(self) -> None:
        check = check_parameters(date(2027, 1, 2))
        assert check.status == "degraded"
        stale = {s["name"]: s for s in check.details["out_of_date"]}
        assert stale["wml_hourly"]["newest_entry"] == "2026-07-01"
        assert stale["wml_hourly"]["table_ends"] == "2026-12-31"
        assert "wml_hourly" in check.reason
        assert "out of date" in check.reason
        indexed = {s["name"]: s for s in check.details["indexed"]}
        assert indexed["wml_hourly"]["state"] == "out_of_date"

    def test_inside_the_table_is_ok(self) -> None:
        check = check_parameters(date(2026, 9, 1))
        assert check.status == "ok"
        assert check.details["out_of_date"] == []
        indexed = {s["name"]: s for s in check.details["indexed"]}
        assert set(indexed) == {"wml_hourly", "wml_reference_monthly"}
        assert indexed["wml_hourly"] == {
            "name": "wml_hourly",
            "newest_entry": "2026-07-01",
            "table_ends": "2026-12-31",
            "next_expected": "2027-01-01",
            "state": "current",
        }

    def test_a_table_falling_due_within_six_weeks_is_named(self) -> None:
        # 2 December 2026: the table of 1 January 2027 is due in 30 days.
        check = check_parameters(date(2026, 12, 2))
        assert check.status == "ok"
        assert check.details["warning_weeks"] == 6
        indexed = {s["name"]: s for s in check.details["indexed"]}
        assert indexed["wml_hourly"]["state"] == "due_soon"
        assert "wml_hourly (new values expected 2027-01-01)" in check.reason
        # 20 November is six weeks before 1 January: due; 19 November not yet.
        assert check_parameters(date(2026, 11, 20)).details["indexed"][0]["state"] == "due_soon"
        assert check_parameters(date(2026, 11, 19)).details["indexed"][0]["state"] == "current"


class TestSweep:
    def _run(self, session: Session, status: str, finished: datetime | None) -> None:
        session.add(
            SweepRun(
                as_of=(finished or utcnow()).date(),
                mode="full",
                status=status,
                trigger="cli",
                started_at=(finished or utcnow()) - timedelta(minutes=5),
                finished_at=finished,
            )
        )
        session.flush()

    def test_no_sweep_yet_is_degraded_not_down(self, session: Session) -> None:
        check = check_sweep(session.connection(), utcnow())
        assert check.status == "degraded"
        assert "No sweep has succeeded yet" in check.reason

    def test_recent_success_is_ok(self, session: Session) -> None:
        now = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
        self._run(session, "succeeded", now - timedelta(hours=7))
        check = check_sweep(session.connection(), now)
        assert check.status == "ok", check.reason
        assert check.details["last_success"]["age_hours"] == 7.0

    def test_stale_success_is_degraded(self, session: Session) -> None:
        now = datetime(2030, 1, 5, 9, 0, tzinfo=UTC)
        self._run(session, "succeeded", now - timedelta(hours=30))
        check = check_sweep(session.connection(), now)
        assert check.status == "degraded"
        assert "30.0 hours ago" in check.reason

    def test_newest_run_failed_is_degraded(self, session: Session) -> None:
        now = datetime(2030, 2, 2, 9, 0, tzinfo=UTC)
        self._run(session, "succeeded", now - timedelta(hours=20))
        self._run(session, "failed", now - timedelta(hours=1))
        check = check_sweep(session.connection(), now)
        assert check.status == "degraded"
        assert check.details["last_run"]["status"] == "failed"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_schema_behind_the_newest_migration_is_503(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        command.downgrade(alembic_config(url), "-1")  # built at the newest; one step back
        engine = create_engine(url)
        try:
            status, body = readiness(engine, utcnow())
        finally:
            engine.dispose()
    assert status == 503
    assert body["status"] == "down"
    assert body["checks"]["schema"]["status"] == "down"
    assert "meldplicht db upgrade" in body["checks"]["schema"]["reason"]
    assert body["checks"]["sweep"]["status"] == "skipped"


def test_unreachable_database_is_503_with_retry_after(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "x.db"
    engine: Engine = create_engine(f"sqlite:///{missing}")
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite:///{missing}",
        _env_file=None,
    )
    with TestClient(create_app(settings, engine)) as client:
        r = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    body = r.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "down"
    assert "cannot be reached" in body["checks"]["database"]["reason"]
    assert body["checks"]["parameters"]["status"] in ("ok", "degraded")  # still reported


class TestParametersCommand:
    def test_lists_each_indexed_table_and_exits_1_when_out_of_date(self) -> None:
        from typer.testing import CliRunner

        from meldplicht.cli import app

        runner = CliRunner()
        due = runner.invoke(app, ["parameters", "status", "--as-of", "2026-12-02"])
        assert due.exit_code == 0, due.output
        assert "wml_hourly" in due.output
        assert "newest period from 2026-07-01" in due.output
        assert "next value expected 2027-01-01: due within 6 weeks" in due.output
        current = runner.invoke(app, ["parameters", "status", "--as-of", "2026-08-01"])
        assert current.exit_code == 0
        assert ": current" in current.output
        stale = runner.invoke(app, ["parameters", "status", "--as-of", "2027-01-05"])
        assert stale.exit_code == 1
        assert "OUT OF DATE" in stale.output
        bad = runner.invoke(app, ["parameters", "status", "--as-of", "soon"])
        assert bad.exit_code == 1
