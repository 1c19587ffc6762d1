"""The control API (`/_aloft/api/`) in process over a fake platform: the bearer token, each
route's JSON, and errors in the shape the CLI turns back into the daemon's exception. (One
integration test drives it through a real daemon: tests/integration/local/control.)"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest

from aloft import errors
from aloft.local.control.client import _error_from
from aloft.local.control.platform import LogWaiter
from aloft.local.triggers.async_queue import AsyncEvent
from aloft.local.types import Runtime
from tests.unit.local.control.platform_fakes import (
    PORT,
    Fakes,
    api,
    assert_error,
    call,
    platform,
    request,
)
from tests.waiting import wait_until_async

SHA_OF_X = hashlib.sha256(b"x").hexdigest()


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return platform(tmp_path)


# -- who may ask ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_every_route_needs_the_token(fakes: Fakes, token: str | None) -> None:
    for method, route in (("GET", "health"), ("GET", "status?service=shop&stage=dev"),
                          ("POST", "deploy"), ("POST", "stop"),
                          ("PUT", f"artifacts/{SHA_OF_X}"), ("GET", "no-such-route")):
        path, _, query = route.partition("?")
        status, data = api(fakes, method, path, query=query, token=token, body=b"x")
        assert status == 401, (method, route)
        assert_error(data, errors.ProviderError, "bearer token")
        assert "$ALOFT_HOME/token" in data["error"]["fix"]
    assert fakes.deployer.calls == [] and fakes.stopped == []
    assert not fakes.platform.store.has(SHA_OF_X)


def test_the_cli_reads_a_refused_token_as_a_provider_error(fakes: Fakes) -> None:
    response = call(fakes, "GET", "/_aloft/api/health", token="wrong")
    error = _error_from(response.status, json.loads(response.body), response.body)
    assert isinstance(error, errors.ProviderError) and "refused the token" in error.message


def test_an_unknown_route_is_a_404_usage_error(fakes: Fakes) -> None:
    status, data = api(fakes, "GET", "deploy")  # POST only
    assert status == 404
    assert_error(data, errors.UsageError, "no control endpoint GET /deploy")


def test_paths_outside_the_api_are_not_the_control_apis(fakes: Fakes) -> None:
    assert asyncio.run(fakes.handler.handle(request("GET", "/shop/dev/"))) is None
    assert asyncio.run(fakes.handler.handle(request("GET", "/_aloftx/api/health"))) is None


# -- the platform ----------------------------------------------------------------------------


def test_health_says_who_answers(fakes: Fakes) -> None:
    status, data = api(fakes, "GET", "health")
    assert status == 200
    assert data == {"ok": True, "pid": os.getpid(), "port": PORT, "home": fakes.platform.home}


def test_cloud_status_shape(fakes: Fakes) -> None:
    fakes.pool.running = {"shop-dev-app": 2}
    fakes.queue.processed, fakes.scheduler.fired = 3, 4
    status, data = api(fakes, "GET", "cloud")
    assert status == 200
    assert set(data) == {"pid", "port", "home", "uptime_s", "stages", "functions", "instances",
                         "rss_mb", "max_rss_mb", "async_processed", "schedules_fired",
                         "aws_endpoint", "isolation", "data_plane", "logs"}
    assert data["stages"] == ["shop dev"] and data["functions"] == 2
    assert data["instances"] == 2 and data["async_processed"] == 3
    assert data["schedules_fired"] == 4 and data["aws_endpoint"] is None
    assert data["rss_mb"] > 0 and data["uptime_s"] >= 0
    assert data["logs"] == fakes.platform.logs.status()  # the store's size against its cap


def test_stop_answers_first_then_stops(fakes: Fakes) -> None:
    async def scenario() -> tuple[int, list[bool]]:
        response = await fakes.handler.handle(request("POST", "/_aloft/api/stop"))
        assert response is not None
        before = list(fakes.stopped)  # the answer goes out before the daemon stops
        await wait_until_async(lambda: fakes.stopped, timeout=5, message="the stop")
        return response.status, before

    status, before = asyncio.run(scenario())
    assert (status, before, fakes.stopped) == (200, [], [True])


# -- artifacts -------------------------------------------------------------------------------


def test_artifacts_are_stored_verified_and_looked_up(fakes: Fakes) -> None:
    route = f"artifacts/{SHA_OF_X}"
    assert call(fakes, "HEAD", "/_aloft/api/" + route).status == 404
    assert api(fakes, "PUT", route, body=b"x") == (201, {"sha256": SHA_OF_X, "size": 1})
    assert call(fakes, "HEAD", "/_aloft/api/" + route).status == 200
    # bytes that do not hash to the name: refused, and nothing stored
    other = "0" * 64
    status, data = api(fakes, "PUT", f"artifacts/{other}", body=b"not those bytes")
    assert status == 409
    assert_error(data, errors.ProviderError, "does not match")
    assert call(fakes, "HEAD", f"/_aloft/api/artifacts/{other}").status == 404


def test_a_large_artifact_is_copied_from_its_path(fakes: Fakes, tmp_path: Path) -> None:
    source = tmp_path / "big.zip"
    source.write_bytes(b"pretend this is a large zip" * 100)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    status, data = api(fakes, "PUT", f"artifacts/{sha}",
                       headers={"X-Aloft-Artifact-Path": str(source)})
    assert (status, data["size"]) == (201, source.stat().st_size)
    assert fakes.platform.store.zip_path(sha).read_bytes() == source.read_bytes()
    status, data = api(fakes, "PUT", f"artifacts/{'1' * 64}",
                       headers={"X-Aloft-Artifact-Path": str(tmp_path / "gone.zip")})
    assert status == 409
    assert_error(data, errors.ProviderError, "cannot read artifact")


def test_artifact_names_and_methods_are_checked(fakes: Fakes) -> None:
    status, data = api(fakes, "PUT", "artifacts/../../etc/passwd", body=b"x")
    assert status == 400
    assert_error(data, errors.UsageError, "is not a sha256")
    status, data = api(fakes, "POST", f"artifacts/{SHA_OF_X}", body=b"x")
    assert status == 405
    assert_error(data, errors.UsageError, "use HEAD or PUT")


# -- deployments -------------------------------------------------------------------------------


def service_json(tmp_path: Path) -> dict[str, object]:
    return {"service": "shop", "stage": "dev", "root": str(tmp_path), "app": "app:app"}


def test_deploy_passes_the_service_and_options_to_the_deployer(fakes: Fakes,
                                                              tmp_path: Path) -> None:
    status, data = api(fakes, "POST", "deploy", body={
        "service": service_json(tmp_path), "code_sha256": "c0de", "layer_sha256": None,
        "plan_only": True, "deploy_id": "d-1", "dev": True, "tasks": False,
        "health_check": False, "runtime": {"python": "/usr/bin/python3.12", "layer": "/l"}})
    assert (status, data) == (200, fakes.deployer.result)
    [(name, args, kwargs)] = fakes.deployer.calls
    assert name == "deploy" and args[0].service == "shop" and args[1:] == ("c0de", None)
    assert kwargs == {"plan_only": True, "deploy_id": "d-1", "dev": True, "tasks": False,
                      "health_check": False, "runtime": Runtime("/usr/bin/python3.12", "/l")}


def test_rollback_cancel_and_undeploy_reach_the_deployer(fakes: Fakes) -> None:
    assert api(fakes, "POST", "rollback", body={"service": "shop", "stage": "dev"})[0] == 200
    api(fakes, "POST", "rollback", body={"service": "shop", "stage": "dev", "to": "1"})
    api(fakes, "POST", "deploy/cancel", body={"deploy_id": "d-1", "service": "shop",
                                              "stage": "dev"})
    api(fakes, "POST", "undeploy", body={"service": "shop", "stage": "dev"})
    assert fakes.deployer.calls == [
        ("rollback", ("shop", "dev", 1), {"to": None}),
        ("rollback", ("shop", "dev", 1), {"to": 1}),
        ("cancel", ("d-1", "shop", "dev"), {}),
        ("undeploy", ("shop", "dev"), {}),
    ]


@pytest.mark.parametrize(("raised", "status"), [
    (errors.NotDeployedError("shop stage 'prod' is not deployed", fix="aloft deploy prod"), 404),
    (errors.UsageError("bad steps"), 400),
    (errors.DeployError("version 2 failed its health check",
                        where=errors.Location(function="app", stage="dev"),
                        fix="see its logs", detail="Traceback ..."), 409),
])
def test_the_deployers_errors_come_back_as_themselves(fakes: Fakes, raised: errors.AloftError,
                                                      status: int) -> None:
    fakes.deployer.error = raised
    response = call(fakes, "POST", "/_aloft/api/undeploy",
                    body={"service": "shop", "stage": "prod"})
    assert response.status == status
    again = _error_from(response.status, json.loads(response.body), response.body)
    assert type(again) is type(raised)
    assert (again.message, again.fix, again.where, again.detail) == (
        raised.message, raised.fix, raised.where, raised.detail)


def test_a_bug_is_a_500_that_points_at_the_daemons_log(fakes: Fakes) -> None:
    fakes.deployer.error = RuntimeError("oops")
    status, data = api(fakes, "POST", "undeploy", body={"service": "shop", "stage": "dev"})
    assert status == 500
    assert_error(data, errors.ProviderError, "RuntimeError: oops")
    assert data["error"]["fix"] == f"see the daemon's log ({fakes.platform.home}/daemon.log)"


@pytest.mark.parametrize(("body", "kind", "words"), [
    (b"{not json", errors.UsageError, ["not JSON"]),
    (b"[1, 2]", errors.UsageError, ["must be a JSON object"]),
    ({"code_sha256": "c0de"}, errors.UsageError, ["malformed request to /deploy", "KeyError"]),
    ({"service": {"service": "shop"}, "code_sha256": "c0de"}, errors.ConfigError,
     ["invalid service description"]),
])
def test_malformed_requests_are_400s_that_say_why(fakes: Fakes, body: object,
                                                  kind: type[errors.AloftError],
                                                  words: list[str]) -> None:
    status, data = api(fakes, "POST", "deploy", body=body)
    assert status == 400
    assert_error(data, kind, *words)
    assert fakes.deployer.calls == []


# -- status ------------------------------------------------------------------------------------


def test_status_of_a_stage(fakes: Fakes) -> None:
    fakes.pool.running = {"shop-dev-app": 1}
    fakes.pool.metrics.record("shop-dev-app", 2.0, error=False, cold=True, request_id="r1")
    fakes.queue.dead_events.append(AsyncEvent("e1", "shop-dev-worker", None, b"{}", 0, 60, 1.0,
                                              status="dead"))
    status, data = api(fakes, "GET", "status", query="service=shop&stage=dev")
    assert status == 200
    assert data["url"] == f"http://127.0.0.1:{PORT}/shop/dev/"
    assert (data["version"], data["alias"]) == (1, "dev -> version 1")
    assert [v["version"] for v in data["versions"]] == [1] and data["versions"][0]["current"]
    app = next(f for f in data["functions"] if f["function"] == "app")
    assert (app["physical"], app["instances"], app["invocations"], app["cold_starts"]) == (
        "shop-dev-app", 1, 1, 1)
    assert set(app) >= {"memory", "timeout", "errors", "4xx", "5xx", "throttles", "p50_ms",
                        "p99_ms"}
    [rule] = data["schedules"]
    assert (rule["name"], rule["expression"], rule["enabled"]) == (
        "shop-dev-worker", "rate(5 minutes)", True)
    assert rule["next_fire"].endswith(" UTC")
    assert data["async"] == {"queued": 0, "dead_letter": 1}
    assert data["routes"] == ["ANY /{proxy+}"] and data["event_sources"] == []


def test_status_of_a_stage_that_is_not_deployed(fakes: Fakes) -> None:
    status, data = api(fakes, "GET", "status", query="service=shop&stage=prod")
    assert status == 404
    assert_error(data, errors.NotDeployedError, "shop stage 'prod' is not deployed")
    assert data["error"]["fix"] == "aloft deploy prod"


# -- invocations -------------------------------------------------------------------------------


def test_invoke_runs_the_stages_version_and_returns_its_logs(fakes: Fakes) -> None:
    status, data = api(fakes, "POST", "invoke", body={
        "service": "shop", "stage": "dev", "function": "worker", "event": {"n": 1}})
    assert status == 200
    assert fakes.pool.invoked == [("shop-dev-worker", 1, b'{"n": 1}')]
    assert data["payload"] == {"ok": True} and data["error"] is None
    assert (data["version"], data["status"], data["request_id"]) == (1, "ok", "req-1")
    assert data["logs"].splitlines()[0] == "START RequestId: req-1 Version: 1"
    assert data["logs"].splitlines()[-1].startswith("REPORT RequestId: req-1")


def test_a_function_error_is_summarised(fakes: Fakes) -> None:
    fakes.pool.answer = ("error", json.dumps({"errorType": "ValueError",
                                              "errorMessage": "fails on purpose"}).encode())
    data = api(fakes, "POST", "invoke", body={"service": "shop", "stage": "dev",
                                              "function": "worker"})[1]
    assert data["error"] == "ValueError: fails on purpose" and data["status"] == "error"
    fakes.pool.answer = ("timeout", b"not json")
    data = api(fakes, "POST", "invoke", body={"service": "shop", "stage": "dev",
                                              "function": "worker"})[1]
    assert data["payload"] == "not json" and data["error"] == "timeout: not json"


def test_an_async_invoke_is_queued_with_the_functions_retries(fakes: Fakes) -> None:
    status, data = api(fakes, "POST", "invoke", body={
        "service": "shop", "stage": "dev", "function": "worker", "event": {"n": 2},
        "async": True})
    assert (status, data) == (202, {"id": "event-1", "version": 1})
    assert fakes.queue.enqueued == [{"function": "shop-dev-worker", "payload": b'{"n": 2}',
                                     "qualifier": None, "max_retries": 0, "max_age": 60}]
    assert fakes.pool.invoked == []


def test_invoking_what_is_not_deployed_says_what_is(fakes: Fakes) -> None:
    status, data = api(fakes, "POST", "invoke", body={"service": "shop", "stage": "dev",
                                                      "function": "nope"})
    assert status == 404
    assert_error(data, errors.NotDeployedError, "function 'nope' is not deployed")
    assert data["error"]["fix"] == "deployed functions: app, worker"
    assert data["error"]["where"]["function"] == "nope"
    status, data = api(fakes, "POST", "invoke", body={"service": "shop", "stage": "prod",
                                                      "function": "app"})
    assert status == 404 and data["error"]["fix"] == "aloft deploy prod"


# -- logs --------------------------------------------------------------------------------------


def write_logs(fakes: Fakes, *lines: tuple[str, str]) -> None:
    for function, text in lines:
        fakes.platform.logs.write(function, 1, "r", text)
    fakes.platform.logs.flush()


def test_logs_of_a_stage_one_function_and_a_filter(fakes: Fakes) -> None:
    write_logs(fakes, ("shop-dev-app", "GET / 200"), ("shop-dev-worker", "REPORT RequestId: r"),
               ("other-dev-app", "not this stage's"))
    status, data = api(fakes, "GET", "logs", query="service=shop&stage=dev")
    assert status == 200
    assert [(x["function"], x["text"]) for x in data["lines"]] == [
        ("shop-dev-app", "GET / 200"), ("shop-dev-worker", "REPORT RequestId: r")]
    assert set(data["lines"][0]) == {"id", "timestamp", "function", "version", "request_id",
                                     "text"}
    assert data["cursor"] == fakes.platform.logs.last_id  # the newest line, of any function
    one = api(fakes, "GET", "logs", query="service=shop&stage=dev&function=worker")[1]
    assert [x["text"] for x in one["lines"]] == ["REPORT RequestId: r"]
    found = api(fakes, "GET", "logs", query="service=shop&stage=dev&filter=report requestid")[1]
    assert [x["text"] for x in found["lines"]] == ["REPORT RequestId: r"]
    after = api(fakes, "GET", "logs", query=f"service=shop&stage=dev&after={data['cursor']}")[1]
    assert after == {"cursor": data["cursor"], "lines": []}


def test_a_follower_gets_every_line_once_in_whole_entries(fakes: Fakes) -> None:
    """Pages of at most `limit` lines, each ending where no invocation's entry is cut (aloft
    dev and tail show a REPORT with its request line), and the next one going on after it."""
    write_logs(fakes, ("shop-dev-app", "before"))
    cursor = fakes.platform.logs.last_id
    invocation = "START RequestId: r{0}\nEND RequestId: r{0}\nREPORT RequestId: r{0}\nGET / 200"
    for i in range(5):
        fakes.platform.logs.write("shop-dev-app", 1, f"r{i}", invocation.format(i))
        fakes.platform.logs.write("other-dev-app", 1, None, "not this stage's")
    fakes.platform.logs.flush()
    pages: list[list[dict[str, object]]] = []
    while True:
        data = api(fakes, "GET", "logs", query=f"service=shop&stage=dev&after={cursor}&limit=6")[1]
        if not data["lines"]:
            break
        pages.append(data["lines"])
        cursor = data["cursor"]
    assert [x["text"] for page in pages for x in page] == [
        line for i in range(5) for line in invocation.format(i).splitlines()]
    assert [[x["request_id"] for x in page] for page in pages] == [[f"r{i}"] * 4
                                                                   for i in range(5)]


def test_logs_of_a_stage_never_deployed(fakes: Fakes) -> None:
    status, data = api(fakes, "GET", "logs", query="service=shop&stage=prod")
    assert status == 404
    assert_error(data, errors.NotDeployedError, "shop stage 'prod' is not deployed")


@pytest.fixture
def waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The timeouts of the long polls that went to sleep on the log waiter, as they did."""
    slept: list[float] = []
    sleep = LogWaiter.wait

    async def wait(event: asyncio.Event, timeout: float) -> None:
        slept.append(timeout)
        await sleep(event, timeout)

    monkeypatch.setattr(LogWaiter, "wait", staticmethod(wait))
    return slept


def long_poll(fakes: Fakes, after: int) -> asyncio.Future[object]:
    return asyncio.ensure_future(fakes.handler.handle(request(
        "GET", "/_aloft/api/logs", query=f"service=shop&stage=dev&after={after}&wait=20")))


def test_a_long_poll_answers_when_a_line_is_committed(fakes: Fakes,
                                                      waiting: list[float]) -> None:
    write_logs(fakes, ("shop-dev-app", "an old line"))

    async def scenario() -> list[str]:
        waiter = LogWaiter(asyncio.get_running_loop())
        fakes.platform.log_waiter = waiter
        fakes.platform.logs.on_commit.append(waiter.notify_threadsafe)
        poll = long_poll(fakes, fakes.platform.logs.last_id)
        await wait_until_async(lambda: waiting, message="the poll to wait")  # nothing new yet
        fakes.platform.logs.write("shop-dev-app", 1, "r", "a new line")
        await asyncio.to_thread(fakes.platform.logs.flush)  # the store's committing thread
        response = await asyncio.wait_for(poll, 5)  # well before its 20 s: woken by the commit
        assert response is not None and response.status == 200  # type: ignore[attr-defined]
        return [x["text"] for x in json.loads(response.body)["lines"]]  # type: ignore

    assert asyncio.run(scenario()) == ["a new line"]
    assert len(waiting) == 1 and waiting[0] > 19


def test_a_long_poll_ends_when_the_daemon_stops(fakes: Fakes, waiting: list[float]) -> None:
    async def scenario() -> object:
        waiter = LogWaiter(asyncio.get_running_loop())
        fakes.platform.log_waiter = waiter
        poll = long_poll(fakes, 0)
        await wait_until_async(lambda: waiting, message="the poll to wait")
        waiter.close()
        return await asyncio.wait_for(poll, 5)

    response = asyncio.run(scenario())
    assert response is not None and response.status == 200  # type: ignore[attr-defined]


# -- schedules and the dead-letter queue -----------------------------------------------------


def test_schedules_are_switched_by_name(fakes: Fakes) -> None:
    status, data = api(fakes, "POST", "schedules", body={
        "service": "shop", "stage": "dev", "enabled": False, "names": ["worker"]})
    assert (status, data) == (200, {"changed": ["shop-dev-worker"]})
    assert fakes.scheduler.calls == [("shop", "dev", False, ["worker"])]


def test_the_dead_letter_queue_is_listed_and_re_driven(fakes: Fakes) -> None:
    event = AsyncEvent("e1", "shop-dev-worker", None, b'{"n": 1}', 0, 60, 1.0, attempts=1,
                       status="dead", last_error="ValueError: no")
    fakes.queue.dead_events.append(event)
    status, data = api(fakes, "GET", "dlq", query="service=shop&stage=dev")
    assert (status, data) == (200, {"events": [event.summary()]})
    assert data["events"][0]["payload"] == '{"n": 1}'
    status, data = api(fakes, "POST", "dlq/redrive", body={"service": "shop", "stage": "dev",
                                                          "ids": ["e1"]})
    assert (status, data) == (200, {"redriven": ["e1"]})
    assert fakes.queue.redriven == [(["shop-dev-app", "shop-dev-worker"], ["e1"])]

