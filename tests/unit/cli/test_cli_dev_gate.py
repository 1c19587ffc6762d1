"""aloft dev shows a version's init output once it serves: the init output of a version that
fails its health check is held and dropped (the deploy's error already says it, once)."""

from __future__ import annotations

from typing import Any

from aloft.cli.devserver import InitOutputGate


def line(version: int, text: str, request_id: str | None = None, at: float = 10.0,
         function: str = "svc-dev-app") -> dict[str, Any]:
    return {"function": function, "version": version, "request_id": request_id,
            "text": text, "timestamp": at}


def test_a_failed_versions_init_output_is_never_shown() -> None:
    shown: list[str] = []
    gate = InitOutputGate(lambda entry: shown.append(entry["text"]))
    gate.served({"svc-dev-app": 1})
    gate.line(line(1, "v1 cold start"))  # the serving version's init output
    gate.line(line(1, "START RequestId: r1", "r1"))
    gate.deploying(now=20.0)
    gate.line(line(2, "[ERROR] Runtime.ImportModuleError: ...", at=20.5))
    gate.failed()
    gate.line(line(2, "[ERROR] Runtime.ImportModuleError: ... (retried)", at=20.9))
    gate.line(line(1, "END RequestId: r1", "r1", at=21.0))
    gate.deploying(now=30.0)  # the next save: what is still held came from the failed attempt
    gate.line(line(2, "v2 cold start", at=30.2))
    gate.served({"svc-dev-app": 2})
    assert shown == ["v1 cold start", "START RequestId: r1", "END RequestId: r1",
                     "v2 cold start"]


def test_held_lines_of_another_function_wait_for_their_own_version() -> None:
    shown: list[str] = []
    gate = InitOutputGate(lambda entry: shown.append(entry["text"]))
    gate.line(line(1, "worker init", function="svc-dev-worker"))
    gate.served({"svc-dev-app": 1})
    assert shown == []
    gate.served({"svc-dev-worker": 1})
    assert shown == ["worker init"]
