"""A local HTTP server answering the admission-register contract of registers/nau.py."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def admission(kvk: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kvkNummer": kvk,
        "naam": "Uitzendbureau Voorbeeld B.V.",
        "status": "toegelaten",
        "registernummer": "NAU-000123",
        "geldigVanaf": "2027-07-01",
        "geldigTot": None,
    }
    body.update(overrides)
    return body


# Numbers with a fixed behaviour; any other number is admitted from 1 July 2027.
NOT_FOUND = "22222222"
ALWAYS_500 = "33333333"
SLOW = "44444444"
MALFORMED = "55555555"
FLAKY = "66666666"  # 503 on the first request, then admitted
REVOKED = "77777777"
TRANSITIONAL = "88888888"
UNKNOWN_STATUS = "99999999"
WRONG_NUMBER = "10101010"


class Register:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.flaky_seen = False
        self.slow_seconds = 1.0
        self.port = 0


def _handler(register: Register) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, body: dict[str, Any]) -> None:
            self._send(200, json.dumps(body).encode())

        def do_GET(self) -> None:
            register.requests.append(self.path)
            prefix = "/v1/uitleners/"
            if not self.path.startswith(prefix):
                self._send(404, b"{}")
                return
            kvk = self.path[len(prefix) :]
            if kvk == NOT_FOUND:
                self._send(404, b'{"fout": "onbekende uitlener"}')
            elif kvk == ALWAYS_500:
                self._send(500, b"internal error", "text/plain")
            elif kvk == SLOW:
                time.sleep(register.slow_seconds)
                self._json(admission(kvk))
            elif kvk == MALFORMED:
                self._send(200, b'{"kvkNummer": "55555555", "stat')
            elif kvk == FLAKY and not register.flaky_seen:
                register.flaky_seen = True
                self._send(503, b"busy", "text/plain")
            elif kvk == REVOKED:
                self._json(admission(kvk, status="ingetrokken", geldigTot="2028-02-29"))
            elif kvk == TRANSITIONAL:
                self._json(admission(kvk, status="overgangsregeling", geldigVanaf="2027-01-01"))
            elif kvk == UNKNOWN_STATUS:
                self._json(admission(kvk, status="misschien"))
            elif kvk == WRONG_NUMBER:
                self._json(admission("12121212"))
            else:
                self._json(admission(kvk))

    return Handler


@contextmanager
def nau_server() -> Iterator[tuple[str, Register]]:
    """A ThreadingHTTPServer on a free port, in a thread; yields (base URL, its state)."""
    register = Register()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(register))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        register.port = int(port)
        yield f"http://{host}:{port}", register
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
