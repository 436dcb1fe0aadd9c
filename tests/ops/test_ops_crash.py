"""A web process killed with SIGKILL during a burst of POSTs: every 201 is stored, and no
notification is stored without its version row, its findings and its audit entry."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.factories import notification_body, with_worker
from tests.ops.servers import (
    Server,
    auth,
    base_env,
    count_rows,
    employer_token,
    fresh_database,
    valid_bsns,
)

URL = "/api/v1/notifications"
# Below the statutory minimum, so every notification must have at least one finding.
LOW_WAGE = {"amount": "5.00", "period": "hour", "includes_holiday_allowance": False}


def _ids_of(database_url: str) -> int:
    return count_rows(database_url, "SELECT count(*) FROM notification")


def _orphans(database_url: str, table: str, match: str, extra: str = "") -> int:
    return count_rows(
        database_url,
        "SELECT count(*) FROM notification n WHERE NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {table} x WHERE {match} {extra})",
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_mid_burst_leaves_nothing_half_written(backend: str, tmp_path: Path) -> None:
    bsns = valid_bsns(400_000_000)
    lock = threading.Lock()
    with fresh_database(backend, tmp_path) as database_url:
        env = base_env(database_url)
        token = employer_token(env, tmp_path)
        created: list[str] = []
        bad: list[str] = []
        server = Server(env=env, cwd=tmp_path).start()

        def burst() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                while True:
                    with lock:
                        bsn = next(bsns)
                    body = with_worker(notification_body(wage=LOW_WAGE), bsn=bsn)
                    try:
                        r = http.post(URL, json=body, headers=auth(token, uuid.uuid4().hex))
                    except httpx.TransportError:
                        return  # the server is gone
                    if r.status_code == 201:
                        assert r.json()["findings"], "a low wage must produce a finding"
                        created.append(r.json()["id"])
                    else:
                        bad.append(f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=burst) for _ in range(8)]
        for t in threads:
            t.start()
        # Killed mid-burst: once enough requests have been answered to mean something (the
        # throughput itself is the benchmarks' business, not this test's), at most after 20 s.
        deadline = time.monotonic() + 20
        while len(created) <= 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.signal(signal.SIGKILL)
        assert server.wait(10) == -signal.SIGKILL
        for t in threads:
            t.join(15)

        assert bad == []
        assert len(created) > 10, "too few requests before the kill to mean anything"
        stored = _ids_of(database_url)
        assert stored >= len(created)
        # At most the requests in flight (one per client) may be stored without a 201.
        assert stored - len(created) <= len(threads)
        id_list = ",".join(f"'{i}'" for i in created)
        on_pg = backend == "postgres"
        missing = count_rows(
            database_url,
            f"SELECT {len(created)} - count(*) FROM notification "  # noqa: S608
            f"WHERE {'CAST(id AS TEXT)' if on_pg else 'id'} IN ({id_list})",
        )
        if not on_pg:
            # SQLite stores uuids as 32 hex characters without dashes.
            hexes = ",".join(f"'{uuid.UUID(i).hex}'" for i in created)
            missing = count_rows(
                database_url,
                f"SELECT {len(created)} - count(*) FROM notification WHERE id IN ({hexes})",  # noqa: S608
            )
        assert missing == 0
        as_text = "CAST(n.id AS TEXT)"
        assert _orphans(database_url, "notification_version", "x.notification_id = n.id") == 0
        assert _orphans(database_url, "notification_finding", "x.notification_id = n.id") == 0
        audit_match = (
            f"x.subject_id = {as_text}"
            if on_pg
            else "replace(x.subject_id, '-', '') = n.id"  # text uuid vs. stored hex
        )
        assert (
            _orphans(
                database_url, "audit_event", audit_match, "AND x.action = 'notification.created'"
            )
            == 0
        )

        # The service starts again on the same database and carries on.
        with httpx.Client(timeout=10) as http:
            again = Server(env=env, cwd=tmp_path).start()
            try:
                body = with_worker(notification_body(), bsn=next(bsns))
                r = http.post(f"{again.url}{URL}", json=body, headers=auth(token))
                assert r.status_code == 201, r.text
            finally:
                again.stop()
