"""Lambda's own runtime client (awslambdaric) running a function's code, behind the smallest
Runtime API that serves it: the reference for what Lambda answers an invocation.

`LambdaRuntime(code_dir, handler, env)` starts `python -m awslambdaric HANDLER` in the unpacked
code (as Lambda runs it from /var/task) against `RuntimeApi`, a threaded HTTP server on
127.0.0.1 that speaks the Runtime API's routes (`invocation/next`, `.../response`,
`.../error`, `init/error`). `invoke(event)` queues one event and returns what the function
answered: its result or error object, whether it failed (Lambda's FunctionError), and what it
wrote to its log meanwhile. One invocation at a time, as a Lambda instance.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class Answer:
    payload: bytes
    errored: bool
    logs: str


class RuntimeApi(ThreadingHTTPServer):
    """The Runtime API of one instance: an event queue in, answers out."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.events: queue.Queue[tuple[str, bytes, dict[str, str]]] = queue.Queue()
        self.answers: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: RuntimeApi

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: bytes = b"{}",
               headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(404)
            return
        request_id, event, extra = self.server.events.get()
        self._reply(200, event, {
            **extra,  # the invocation's own headers (Lambda-Runtime-Client-Context)
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 30) * 1000)),  # 30 s
            "Lambda-Runtime-Invoked-Function-Arn":
                "arn:aws:lambda:eu-west-1:123456789012:function:test",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        })

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path[len(PREFIX):].strip("/").split("/")
        if parts == ["init", "error"]:
            self.server.answers.put(("init", body, True))
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            self.server.answers.put((parts[1], body, parts[2] == "error"))
        else:
            self._reply(404)
            return
        self._reply(202)


class LambdaRuntime:
    """awslambdaric running `handler` from `code_dir` with `env` (the function's own
    variables; Lambda's are added)."""

    def __init__(self, code_dir: Path, handler: str, env: dict[str, str]) -> None:
        self.api = RuntimeApi()
        self.log_path = code_dir.parent / f"{code_dir.name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", handler], cwd=code_dir,
            stdout=self._log, stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("ALOFT_")},
                 "AWS_LAMBDA_FUNCTION_NAME": "test", "AWS_LAMBDA_FUNCTION_VERSION": "1",
                 "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",  # unless `env` has Lambda's own
                 **env, "AWS_LAMBDA_RUNTIME_API": self.api.address,
                 "LAMBDA_TASK_ROOT": str(code_dir), "PYTHONPATH": str(code_dir),
                 "_HANDLER": handler})
        self._read = 0

    def invoke(self, event: Any, timeout: float = 30.0,
               client_context: dict[str, Any] | None = None) -> Answer:
        """One invocation; `client_context`: the Invoke API's ClientContext, decoded."""
        request_id = str(uuid.uuid4())
        extra = {} if client_context is None else {
            "Lambda-Runtime-Client-Context": json.dumps(client_context)}
        self.api.events.put((request_id, json.dumps(event).encode(), extra))
        answered, payload, errored = self.api.answers.get(timeout=timeout)
        assert answered in (request_id, "init"), answered
        self._log.flush()
        text = self.log_path.read_bytes()
        logs, self._read = text[self._read:].decode("utf-8", "replace"), len(text)
        return Answer(payload, errored, logs)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.api.shutdown()
        self.api.server_close()
        self._log.close()
