"""A local HTTP server speaking the KvK Basisprofiel API shape, with misbehaving numbers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def profile(kvk: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kvkNummer": kvk,
        "indNonMailing": "Nee",
        "naam": "Uitzendbureau Voorbeeld B.V.",
        "formeleRegistratiedatum": "20190415",
        "materieleRegistratie": {"datumAanvang": "20190401"},
        "totaalWerkzamePersonen": 12,
        "handelsnamen": [{"naam": "Voorbeeld Uitzendwerk", "volgorde": 0}],
        "sbiActiviteiten": [
            {"sbiCode": "78201", "sbiOmschrijving": "Uitzendbureaus", "indHoofdactiviteit": "Ja"}
        ],
        "links": [{"rel": "self", "href": f"/v1/basisprofielen/{kvk}"}],
    }
    body.update(overrides)
    return body


# Numbers with a fixed behaviour; any other number is "found" with profile(number).
NOT_FOUND = "22222222"
ALWAYS_500 = "33333333"
SLOW = "44444444"
MALFORMED = "55555555"
FLAKY = "66666666"  # 503 on the first request, then found
ENDED = "77777777"
NOT_A_LENDER = "88888888"
WRONG_NUMBER = "99999999"


class Register:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.api_keys: list[str | None] = []
        self.flaky_seen = False
        self.slow_seconds = 1.0


def _handler(register: Register) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            register.requests.append(self.path)
            register.api_keys.append(self.headers.get("apikey"))
            prefix = "/v1/basisprofielen/"
            if not self.path.startswith(prefix):
                self._send(404, b"{}")
                return
            kvk = self.path[len(prefix) :]
            if kvk == NOT_FOUND:
                body = {"fout": [{"code": "IPD0004", "omschrijving": "Het KVK-nummer is onbekend"}]}
                self._send(404, json.dumps(body).encode())
            elif kvk == ALWAYS_500:
                self._send(500, b"internal error", "text/plain")
            elif kvk == SLOW:
                time.sleep(register.slow_seconds)
                self._send(200, json.dumps(profile(kvk)).encode())
            elif kvk == MALFORMED:
                self._send(200, b'{"kvkNummer": "55555555", "sbiActiviteiten": [{"sbiC')
            elif kvk == FLAKY and not register.flaky_seen:
                register.flaky_seen = True
                self._send(503, b"busy", "text/plain")
            elif kvk == ENDED:
                ended = profile(
                    kvk, materieleRegistratie={"datumAanvang": "20190401", "datumEinde": "20240131"}
                )
                self._send(200, json.dumps(ended).encode())
            elif kvk == NOT_A_LENDER:
                activities = [
                    {
                        "sbiCode": "01131",
                        "sbiOmschrijving": "Teelt van groenten in kassen",
                        "indHoofdactiviteit": "Ja",
                    }
                ]
                self._send(200, json.dumps(profile(kvk, sbiActiviteiten=activities)).encode())
            elif kvk == WRONG_NUMBER:
                self._send(200, json.dumps(profile("12121212")).encode())
            else:
                self._send(200, json.dumps(profile(kvk)).encode())

    return Handler


@contextmanager
def kvk_server() -> Iterator[tuple[str, Register]]:
    """A ThreadingHTTPServer on a free port, in a thread; yields (base URL, its state)."""
    register = Register()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(register))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}", register
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
