"""The database goes away mid-run and comes back: 503 problem+json with Retry-After while it
is gone, /readyz says why, nothing half-written, and the service resumes by itself."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import notification_body, with_worker
from tests.ops.servers import (
    auth,
    base_env,
    count_rows,
    employer_token,
    private_postgres,
    running_server,
    valid_bsns,
)

URL = "/api/v1/notifications"


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_stopped_and_started_again(tmp_path: Path) -> None:
    bsns = valid_bsns(300_000_000)
    with private_postgres() as pg:
        database_url = pg.create_database("meldplicht")
        from meldplicht.core.migrations import upgrade

        upgrade(database_url)
        env = base_env(database_url)
        token = employer_token(env, tmp_path)
        created: list[str] = []
        other: list[tuple[int, Any]] = []
        stop_burst = threading.Event()

        def burst(base_url: str) -> None:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                while not stop_burst.is_set():
                    body = with_worker(notification_body(), bsn=next(bsns))
                    r = http.post(URL, json=body, headers=auth(token, uuid.uuid4().hex))
                    if r.status_code == 201:
                        created.append(r.json()["id"])
                    else:
                        other.append((r.status_code, r))

        with (
            running_server(env, tmp_path) as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            threads = [threading.Thread(target=burst, args=(server.url,)) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(1.5)
            pg.stop("fast")  # the database goes away with requests in flight
            time.sleep(1.0)

            # While it is gone: a clear 503 and a readiness answer that says why.
            key = uuid.uuid4().hex
            body = with_worker(notification_body(), bsn=next(bsns))
            down = http.post(URL, json=body, headers=auth(token, key))
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            assert down.headers["Retry-After"] == "5"
            assert down.json()["code"] == "service_unavailable"
            assert down.json()["request_id"] == down.headers["X-Request-ID"]
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "down"
            assert ready.json()["checks"]["database"]["status"] == "down"
            assert "cannot be reached" in ready.json()["checks"]["database"]["reason"]
            assert http.get("/healthz").status_code == 200  # the process itself is fine

            pg.start()
            # Back by itself (pool_pre_ping replaces the dead connections): no restart.
            deadline = time.monotonic() + 30
            retried = None
            while time.monotonic() < deadline:
                retried = http.post(URL, json=body, headers=auth(token, key))
                if retried.status_code == 201:
                    break
                time.sleep(0.5)
            assert retried is not None
            assert retried.status_code == 201, retried.text
            created.append(retried.json()["id"])
            time.sleep(0.5)
            stop_burst.set()
            for t in threads:
                t.join()
            assert http.get("/readyz").status_code == 200

        assert {status for status, _ in other} <= {503}, [r.text for _, r in other[:3]]
        assert other, "no request met the outage; the test did not test anything"
        assert len(created) == len(set(created))
        # Every 201 is stored; nothing else is (no notification without its 201 response,
        # since every failed request was answered 503 before or instead of its commit) ...
        stored = count_rows(database_url, "SELECT count(*) FROM notification")
        assert stored == len(created)
        # ... and nothing is half-written.
        for table, where in [
            ("notification_version", ""),
            ("audit_event", "AND a.action = 'notification.created'"),
        ]:
            column = "notification_id" if table == "notification_version" else "subject_id"
            join_on = (
                f"a.{column} = n.id"
                if table == "notification_version"
                else f"a.{column} = CAST(n.id AS TEXT)"
            )
            orphans = count_rows(
                database_url,
                f"SELECT count(*) FROM notification n WHERE NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {table} a WHERE {join_on} {where})",
            )
            assert orphans == 0, table
