"""A fake AWS endpoint for Lambda's Invoke (and STS, for the account), on a free local port:
what `AWS_ENDPOINT_URL` points boto3 at, in this process or in a real `aloft` run.

Each function runs `SLOW` seconds and answers its event back with a log tail; a function whose
name holds "fails" answers Lambda's error object (X-Amz-Function-Error: Unhandled). `refusals`
makes the next Invoke requests fail instead, one entry each (see REFUSALS)."""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW = 1.5  # seconds a function runs
IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn>"
    "<UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)
TAIL = "START RequestId: r1 Version: 4\nworking on it\nEND RequestId: r1\n"
REFUSALS = {  # what Lambda answers when it does not run the function, or fails after it did
    "throttled": (429, "TooManyRequestsException", "Rate Exceeded."),
    "not ready": (502, "ResourceNotReadyException", "The function is being created."),
    "service": (500, "ServiceException", "An internal error occurred."),
}


class FakeAws(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, slow: float = SLOW) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow = slow
        self.invocations: list[str] = []  # the paths of the Invoke requests received
        self.arrived = threading.Event()  # an Invoke request has come
        # How the next Invoke requests fail, in order: a REFUSALS key, or "hang up" (the
        # connection closed once the request is read, before any answer).
        self.refusals: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeAws:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about a client that stopped waiting (a read timeout): tests assert that."""

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeAws

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if not self.path.startswith("/2015-03-31/functions/"):  # STS: GetCallerIdentity
            self._answer(IDENTITY.encode(), "text/xml")
            return
        self.server.invocations.append(self.path)
        self.server.arrived.set()
        if self.server.refusals:
            self._refuse(self.server.refusals.pop(0))
            return
        threading.Event().wait(self.server.slow)
        tail = {"X-Amz-Log-Result": base64.b64encode(TAIL.encode()).decode()}
        if "fails" in self.path:
            error = {"errorMessage": "no such job", "errorType": "KeyError"}
            self._answer(json.dumps(error).encode(), "application/json",
                         {**tail, "X-Amz-Function-Error": "Unhandled"})
        else:
            self._answer(json.dumps({"ran": json.loads(body)}).encode(), "application/json",
                         tail)

    def _refuse(self, how: str) -> None:
        if how == "hang up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, code, message = REFUSALS[how]
        self._answer(json.dumps({"message": message}).encode(), "application/json",
                     {"x-amzn-ErrorType": code}, status)

    def _answer(self, data: bytes, kind: str, headers: dict[str, str] | None = None,
                status: int = 200) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
