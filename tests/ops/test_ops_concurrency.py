"""8 concurrent clients x 200 notifications against a real server, every request retried once
with the same Idempotency-Key: exactly 1,600 stored, none lost, none doubled, no 5xx, and no
BSN or Cyrillic name in the server's logs."""

from __future__ import annotations

import json
import re
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
    fresh_database,
    running_server,
    valid_bsns,
)

CLIENTS = 8
PER_CLIENT = 200
SURNAMES = ["Коваленко", "Шевченко", "Бондаренко", "Ткаченко"]
URL = "/api/v1/notifications"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_clients_with_retries_store_each_notification_once(
    backend: str, tmp_path: Path
) -> None:
    # Away from round numbers, so a timestamp or a long id in the log cannot hold one by chance.
    bsns = valid_bsns(start=734_512_000)
    planned = [[next(bsns) for _ in range(PER_CLIENT)] for _ in range(CLIENTS)]
    with fresh_database(backend, tmp_path) as database_url:
        env = base_env(database_url)
        token = employer_token(env, tmp_path)
        results: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
        failures: list[str] = []

        def client(index: int, base_url: str) -> None:
            with httpx.Client(base_url=base_url, timeout=60) as http:
                for n, bsn in enumerate(planned[index]):
                    body = with_worker(
                        notification_body(),
                        bsn=bsn,
                        given_names_original="Олена",
                        surname_original=SURNAMES[n % len(SURNAMES)],
                    )
                    key = uuid.uuid4().hex
                    first = http.post(URL, json=body, headers=auth(token, key))
                    retry = http.post(URL, json=body, headers=auth(token, key))
                    results[index].append(
                        {
                            "statuses": (first.status_code, retry.status_code),
                            "ids": (first.json().get("id"), retry.json().get("id")),
                            "replayed": retry.headers.get("Idempotent-Replayed"),
                        }
                    )
                    if first.status_code != 201 or retry.status_code != 201:
                        failures.append(f"{first.status_code} {retry.status_code} {retry.text}")

        with running_server(env, tmp_path) as server:
            threads = [
                threading.Thread(target=client, args=(i, server.url)) for i in range(CLIENTS)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # The access line is written after the response is sent: give the last ones a
            # moment to reach the log before reading it.
            deadline = time.monotonic() + 10
            log = server.log()
            while log.count('"meldplicht.access"') < 2 * CLIENTS * PER_CLIENT:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
                log = server.log()

        assert failures == [], failures[:5]
        outcomes = [r for per_client in results for r in per_client]
        assert len(outcomes) == CLIENTS * PER_CLIENT
        ids = {r["ids"][0] for r in outcomes}
        assert len(ids) == CLIENTS * PER_CLIENT
        assert all(r["ids"][0] == r["ids"][1] and r["replayed"] == "true" for r in outcomes)
        assert count_rows(database_url, "SELECT count(*) FROM notification") == 1600
        assert count_rows(database_url, "SELECT count(*) FROM notification_version") == 1600
        assert (
            count_rows(
                database_url,
                "SELECT count(*) FROM audit_event WHERE action = 'notification.created'",
            )
            == 1600
        )

    # Personal data never reaches the logs, although every request carried it.
    planted = [bsn for per_client in planned for bsn in per_client]
    # As a number of its own: not a slice of a longer run of digits (an id, a timestamp).
    assert not [bsn for bsn in planted if re.search(rf"(?<![0-9]){bsn}(?![0-9])", log)]
    assert not [name for name in [*SURNAMES, "Олена"] if name in log]
    access = [json.loads(line) for line in log.splitlines() if '"meldplicht.access"' in line]
    assert len(access) >= 3200
    assert all(a["request_id"] and a["route"] == URL and a["status"] == 201 for a in access)
