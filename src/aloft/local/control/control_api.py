"""The control API (`/_aloft/api/...`, bearer token) and Lambda's Invoke API (`/2015-03-31/...`).

The HTTP server offers every request under those prefixes to `ControlHandler.handle` first. The
handler is socket-free like the gateway: a request in, a reply out. Control endpoints (JSON):

    GET  health                        liveness and the daemon's pid (the CLI's readiness check)
    GET  cloud                         platform status: stages, instances, memory
    POST stop                          shut the daemon down
    HEAD/PUT artifacts/{sha256}        is an artifact stored / store it (verified against its hash)
    POST deploy {service, code_sha256, layer_sha256, plan_only, deploy_id, dev, tasks,
                 health_check}
    POST deploy/cancel {deploy_id, service, stage}  -> {outcome, version, serving, next}
    POST rollback {service, stage, steps}       POST undeploy {service, stage}
    GET  status?service=&stage=
    POST invoke {service, stage, function, event, async}
    GET  logs?service=&stage=&function=&since=&filter=&after=&wait=   (long-poll when `wait`)
    POST schedules {service, stage, enabled, names}
    POST events {Entries}               EventBridge's PutEvents (the AWS endpoint hands it over)
    GET  dlq?service=&stage=            POST dlq/redrive {service, stage, ids}

Errors are JSON `{"error": {"type", "message", "fix", "where", "detail"}}` so that the CLI
re-raises the same `aloft.errors` exception the daemon raised.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import resource
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from aloft import errors
from aloft.config.models import Service
from aloft.local.control import dashboard, invoke_api, invoke_auth, lambda_api
from aloft.local.control.invoke_api import ApiRequest, Reply
from aloft.local.control.platform import LogWaiter, Platform
from aloft.local.instances import isolation
from aloft.local.instances.trace_ids import incoming_root, lambda_trace
from aloft.local.services import eventbridge
from aloft.local.store.artifacts import valid_sha256
from aloft.local.types import (
    LAMBDA_API_PREFIXES,
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    InvokeResult,
    Runtime,
)
from aloft.stage.names import function_name
from aloft.stage.records import DEFAULT_ASYNC

log = logging.getLogger("aloft.local.control")

API = "/_aloft/api/"
LAMBDA = LAMBDA_API_PREFIXES
MAX_LONG_POLL = 30.0
_PREFIXES = (API, *LAMBDA)


def json_reply(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data, default=str).encode(),
                 {"Content-Type": "application/json"})


def error_reply(exc: errors.AloftError, status: int = 400) -> Reply:
    where = asdict(exc.where) if exc.where else None
    return json_reply(status, {"error": {
        "type": type(exc).__name__, "message": exc.message, "fix": exc.fix, "where": where,
        "detail": exc.detail,
    }})


class ControlHandler:
    def __init__(self, platform: Platform):
        self.p = platform
        self.lambda_api = lambda_api.LambdaApi(platform)

    # -- entry --------------------------------------------------------------------

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The server's entry point (`aloft.local.types.ControlHandler`)."""
        if not request.path.startswith(_PREFIXES):  # the dashboard has the rest of /_aloft/
            return await dashboard.handle(self.p, request) if request.path.startswith(
                "/_aloft/") else None
        headers: dict[str, str] = {}
        for name, value in request.headers:
            headers.setdefault(name.lower(), value)
        reply = await self.dispatch(ApiRequest(
            method=request.method.upper(), path=request.path, query=parse_query(request.query),
            headers=headers, body=request.body, raw_query=request.query,
        ))
        if reply is None:
            return None
        return HttpResponse(reply.status, list(reply.headers.items()), reply.body)

    async def dispatch(self, req: ApiRequest) -> Reply | None:
        if req.path.startswith(LAMBDA):
            return await self._lambda(req)
        if not req.path.startswith(API):
            return None
        if not self._authorised(req):
            return json_reply(401, {"error": {
                "type": "ProviderError", "message": "missing or wrong bearer token",
                "fix": "the CLI reads it from $ALOFT_HOME/token", "where": None}})
        route = req.path[len(API):].strip("/")
        try:
            return await self._route(req, route)
        except errors.NotDeployedError as exc:
            return error_reply(exc, 404)
        except errors.AloftError as exc:
            return error_reply(exc, 400 if isinstance(exc, errors.UsageError) else 409)
        except ValidationError as exc:
            return error_reply(errors.ConfigError(f"invalid service description: {exc}"), 400)
        except (KeyError, ValueError, TypeError) as exc:
            return error_reply(errors.UsageError(
                f"malformed request to /{route}: {type(exc).__name__}: {exc}",
                fix="the CLI and the daemon may be different versions: `aloft cloud stop`, "
                "then run the command again"), 400)
        except Exception as exc:  # a bug: answer with its name rather than drop the connection
            log.exception("control API %s /%s failed", req.method, route)
            return error_reply(errors.ProviderError(
                f"the local cloud failed: {type(exc).__name__}: {exc}",
                fix=f"see the daemon's log ({self.p.home}/daemon.log)"), 500)

    def _authorised(self, req: ApiRequest) -> bool:
        given = req.headers.get("authorization", "")
        expected = f"Bearer {self.p.token}"
        return hmac.compare_digest(given.encode(), expected.encode())

    async def _route(self, req: ApiRequest, route: str) -> Reply:
        m = req.method
        if route.startswith("artifacts/"):
            return await self._artifact(req, route.split("/", 1)[1])
        handlers: dict[tuple[str, str], Callable[[ApiRequest], Awaitable[Reply]]] = {
            ("GET", "health"): self._health,
            ("GET", "cloud"): self._cloud,
            ("POST", "stop"): self._stop,
            ("POST", "deploy"): self._deploy,
            ("POST", "deploy/cancel"): self._cancel_deploy,
            ("POST", "rollback"): self._rollback,
            ("POST", "undeploy"): self._undeploy,
            ("GET", "status"): self._status,
            ("POST", "invoke"): self._invoke,
            ("GET", "logs"): self._logs,
            ("POST", "schedules"): self._schedules,
            ("GET", "dlq"): self._dlq,
            ("POST", "dlq/redrive"): self._redrive,
            ("POST", "events"): self._events,
        }
        handler = handlers.get((m, route))
        if handler is None:
            return json_reply(404, {"error": {"type": "UsageError", "where": None, "fix": None,
                                              "message": f"no control endpoint {m} /{route}"}})
        return await handler(req)

    # -- platform -------------------------------------------------------------------

    async def _health(self, req: ApiRequest) -> Reply:
        return json_reply(200, {"ok": True, "pid": os.getpid(), "port": self.p.port,
                                "home": self.p.home})

    async def _cloud(self, req: ApiRequest) -> Reply:
        snap = self.p.registry.snapshot
        instances = self.p.pool.instances()
        data: dict[str, Any] = {
            "pid": os.getpid(), "port": self.p.port, "home": self.p.home,
            "uptime_s": round(time.time() - self.p.started, 1),
            "stages": [f"{i.routes.service} {i.routes.stage}" for i in snap.stages.values()],
            "functions": len(snap.current),
            "instances": sum(instances.values()),
            "rss_mb": _rss_mb(),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "async_processed": self.p.asyncq.processed,
            "schedules_fired": self.p.scheduler.fired,
            "aws_endpoint": self.p.endpoint.status() if self.p.endpoint else None,
            "isolation": isolation.current().describe(),
            "data_plane": self.p.data_plane,
            "logs": self.p.logs.status(),
        }
        return json_reply(200, data)

    async def _stop(self, req: ApiRequest) -> Reply:
        if self.p.stop is not None:  # after this answer has been sent
            asyncio.get_running_loop().call_later(0.05, self.p.stop)
        return json_reply(200, {"stopping": True})

    # -- artifacts ------------------------------------------------------------------

    async def _artifact(self, req: ApiRequest, sha: str) -> Reply:
        if not valid_sha256(sha):
            return json_reply(400, {"error": {"type": "UsageError", "where": None, "fix": None,
                                              "message": f"{sha!r} is not a sha256"}})
        if req.method == "HEAD":
            return Reply(200 if self.p.store.has(sha) else 404)
        if req.method == "PUT":
            source = req.headers.get("x-aloft-artifact-path")
            if source and not req.body:
                # Same machine, same user (the token says so): copy a large artifact from the
                # CLI's build directory instead of streaming it through HTTP.
                size = await asyncio.to_thread(self.p.store.put_file, sha, Path(source))
            else:
                size = await asyncio.to_thread(self.p.store.put, sha, [req.body])
            return json_reply(201, {"sha256": sha, "size": size})
        return json_reply(405, {"error": {"type": "UsageError", "where": None, "fix": None,
                                          "message": "use HEAD or PUT"}})

    # -- deployments ------------------------------------------------------------------

    async def _deploy(self, req: ApiRequest) -> Reply:
        body = req.json()
        service = Service.model_validate(body["service"])
        result = await self.p.deployer.deploy(
            service, str(body["code_sha256"]), body.get("layer_sha256"),
            plan_only=bool(body.get("plan_only")), deploy_id=body.get("deploy_id"),
            dev=bool(body.get("dev")), tasks=bool(body.get("tasks", True)),
            health_check=bool(body.get("health_check", True)),
            runtime=Runtime.from_json(body.get("runtime")),
        )
        return json_reply(200, result)

    async def _cancel_deploy(self, req: ApiRequest) -> Reply:
        body = req.json()
        return json_reply(200, await self.p.deployer.cancel(
            str(body["deploy_id"]), str(body["service"]), str(body["stage"])))

    async def _rollback(self, req: ApiRequest) -> Reply:
        body = req.json()
        to = body.get("to")
        result = await self.p.deployer.rollback(body["service"], body["stage"],
                                                int(body.get("steps", 1)),
                                                to=None if to is None else int(to))
        return json_reply(200, result)

    async def _undeploy(self, req: ApiRequest) -> Reply:
        body = req.json()
        return json_reply(200, await self.p.deployer.undeploy(body["service"], body["stage"]))

    async def _status(self, req: ApiRequest) -> Reply:
        from aloft.local.control.status import stage_status

        service, stage = req.query.get("service", ""), req.query.get("stage", "")
        return json_reply(200, await stage_status(self.p, service, stage))

    # -- invocations ----------------------------------------------------------------------

    def _stage_function(self, service: str, stage: str, function: str) -> FunctionVersion:
        info = self.p.registry.stage(service, stage)
        if info is None:
            raise errors.NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                          fix=f"aloft deploy {stage}")
        fv = info.functions.get(function)
        if fv is None:
            raise errors.NotDeployedError(
                f"function {function!r} is not deployed in stage {stage!r}",
                where=errors.Location(function=function, stage=stage),
                fix=f"deployed functions: {', '.join(sorted(info.functions))}",
            )
        return fv

    async def _invoke(self, req: ApiRequest) -> Reply:
        body = req.json()
        fv = self._stage_function(body["service"], body["stage"], body["function"])
        payload = json.dumps(body.get("event", {})).encode()
        if body.get("async"):
            event_id = await self.enqueue(fv.function, payload, None)
            return json_reply(202, {"id": event_id, "version": fv.version})
        result: InvokeResult = await self.p.pool.invoke(fv, payload)
        lines = await self._request_logs(fv.function, result.request_id)
        decoded: Any
        try:
            decoded = json.loads(result.payload) if result.payload else None
        except ValueError:
            decoded = result.payload.decode("utf-8", "replace")
        error = None
        if result.status != "ok":
            error = _error_summary(result.status, decoded)
        return json_reply(200, {"payload": decoded, "error": error, "logs": "\n".join(lines),
                                "version": result.version or fv.version,
                                "request_id": result.request_id, "status": result.status})

    async def _request_logs(self, function: str, request_id: str) -> list[str]:
        # The pool writes the REPORT line as the invocation ends; give the reader a moment.
        for _ in range(10):
            await asyncio.to_thread(self.p.logs.flush)
            records = await asyncio.to_thread(self.p.logs.query, [function], since=time.time()
                                              - 3600, request_id=request_id, limit=5000)
            lines = [r.text for r in records]
            if any(line.startswith("REPORT") for line in lines):
                return lines
            await asyncio.sleep(0.01)
        return lines

    async def enqueue(self, function: str, payload: bytes, qualifier: str | None,
                      event_id: str | None = None) -> str:
        retries, max_age = self.p.registry.snapshot.async_config.get(
            function, (DEFAULT_ASYNC.retries, DEFAULT_ASYNC.max_event_age))
        return await self.p.asyncq.enqueue(function, payload, qualifier=qualifier,
                                           max_retries=retries, max_age=max_age,
                                           event_id=event_id)

    def _function_key(self, access_key: str) -> invoke_auth.FunctionKey | None:
        found = self.p.endpoint.function_key(access_key) if self.p.endpoint else None
        return invoke_auth.FunctionKey(*found) if found is not None else None

    async def _lambda(self, req: ApiRequest) -> Reply:
        request_id = str(uuid.uuid4())
        if req.path.startswith(lambda_api.CODE_PATH) and req.method == "GET":
            return await self._code(req, request_id)
        caller = invoke_auth.authenticate(
            invoke_auth.Request(req.method, req.path, req.raw_query, req.headers, req.body),
            self._function_key, self.p.credentials.secret, request_id)
        if isinstance(caller, Reply):
            return caller
        target = invoke_api.parse_target(req.path, req.query.get("Qualifier"))
        if target is None or req.method != "POST":
            return await self.lambda_api.handle(req, caller, request_id)
        name, qualifier = target
        refused = invoke_auth.authorize(caller, name, qualifier, request_id,
                                        self.p.registry.snapshot.stage_of.get)
        if refused is not None:
            return refused
        fv = self.p.registry.resolve(name, qualifier)
        if fv is None:
            return invoke_api.not_found(name, qualifier, request_id)
        kind = req.headers.get("x-amz-invocation-type", "RequestResponse")
        payload = req.body or b"{}"
        try:
            json.loads(payload)
        except ValueError:
            return invoke_api.error(400, "InvalidRequestContentException",
                                    "Could not parse request body into json", request_id)
        if kind == "DryRun":
            return Reply(204, b"", {"X-Amzn-RequestId": request_id})
        if kind == "Event":
            if len(payload) > invoke_api.MAX_ASYNC_PAYLOAD:
                return invoke_api.error(413, "RequestTooLargeException",
                                        "Request must be smaller than 1048576 bytes for the "
                                        "InvokeAsync operation", request_id)
            event_id = await self.enqueue(name, payload, qualifier, request_id)
            return Reply(202, b"", {"X-Amzn-RequestId": event_id})
        if kind != "RequestResponse":
            return invoke_api.error(400, "InvalidParameterValueException",
                                    f"X-Amz-Invocation-Type {kind!r} is not one of "
                                    "RequestResponse, Event, DryRun", request_id)
        if len(payload) > invoke_api.MAX_SYNC_PAYLOAD:
            return invoke_api.error(413, "RequestTooLargeException",
                                    "Request must be smaller than 6291456 bytes for the Invoke "
                                    "operation", request_id)
        client_context = invoke_api.client_context(req.headers.get("x-amz-client-context"),
                                                  request_id)
        if isinstance(client_context, Reply):
            return client_context
        # a caller inside a function (boto3 sends its _X_AMZN_TRACE_ID) continues its trace
        incoming = incoming_root(req.headers.get("x-amzn-trace-id"))
        trace = None if incoming is None else lambda_trace(*incoming)
        result: InvokeResult = await self.p.pool.invoke(fv, payload,
                                                        client_context=client_context,
                                                        trace=trace)
        if result.status == "throttled":
            return invoke_api.throttled(result.payload, result.request_id or request_id)
        headers = {
            "Content-Type": "application/json",
            "X-Amzn-RequestId": result.request_id or request_id,
            "X-Amz-Executed-Version": str(result.version or fv.version),
        }
        if result.status != "ok":
            headers["X-Amz-Function-Error"] = "Unhandled"
        if req.headers.get("x-amz-log-type") == "Tail":
            lines = await self._request_logs(fv.function, result.request_id)
            headers["X-Amz-Log-Result"] = invoke_api.log_result(lines)
        return Reply(200, result.payload, headers)

    async def _code(self, req: ApiRequest, request_id: str) -> Reply:
        """A version's code zip at the URL GetFunction gave (`Code.Location`)."""
        sha = req.path[len(lambda_api.CODE_PATH):].removesuffix(".zip")
        if not (valid_sha256(sha) and lambda_api.code_url_ok(self.p.token, sha, req.query,
                                                             time.time())):
            return invoke_auth.denied(403, "AccessDenied", "Request has expired or its "
                                      "signature is wrong: call GetFunction again", request_id)
        path = self.p.store.zip_path(sha)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return invoke_api.error(404, "ResourceNotFoundException",
                                    "the code of that version is no longer kept", request_id)
        return Reply(200, data, {"Content-Type": "application/zip",
                                 "X-Amzn-RequestId": request_id})

    # -- logs ---------------------------------------------------------------------------

    async def _logs(self, req: ApiRequest) -> Reply:
        q = req.query
        functions = await self._log_functions(q.get("service", ""), q.get("stage", ""),
                                              q.get("function") or None)
        after = int(q.get("after") or 0)
        since = float(q["since"]) if q.get("since") else None
        wait = min(float(q.get("wait") or 0), MAX_LONG_POLL)
        filt = q.get("filter") or None
        limit = int(q.get("limit") or 1000)
        await asyncio.to_thread(self.p.logs.flush)
        deadline = time.monotonic() + wait
        cursor = after
        while True:
            # The newest id is read before querying, so a line committed meanwhile is either in
            # this answer or after the cursor: never skipped.
            newest = self.p.logs.last_id
            committed = self.p.log_waiter.current() if self.p.log_waiter else None
            records = await asyncio.to_thread(self.p.logs.query, functions, since=since,
                                              after_id=cursor, filter_text=filt, limit=limit)
            # A follower goes on after the page's last line: a page may be cut by the limit,
            # or end before it (where it would cut an entry: LogStore.query).
            cursor = max(r.id for r in records) if cursor > 0 and records else max(
                cursor, newest, *(r.id for r in records))
            remaining = deadline - time.monotonic()
            if records or remaining <= 0 or (self.p.log_waiter and self.p.log_waiter.closed):
                break
            if committed is not None:
                await LogWaiter.wait(committed, remaining)
            else:
                await asyncio.sleep(min(0.2, remaining))
        return json_reply(200, {"cursor": cursor, "lines": [
            {"id": r.id, "timestamp": r.timestamp, "function": r.function,
             "version": r.version, "request_id": r.request_id, "text": r.text}
            for r in records]})

    async def _log_functions(self, service: str, stage: str, function: str | None) -> list[str]:
        if function:
            return [function_name(service, stage, function)]
        names: set[str] = set()
        for dep in await asyncio.to_thread(self.p.state.deployments, service, stage):
            names.update(dep.physical.values())
        if not names:
            raise errors.NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                          fix=f"aloft deploy {stage}")
        return sorted(names)

    # -- schedules and the dead-letter queue ------------------------------------------------

    async def _schedules(self, req: ApiRequest) -> Reply:
        body = req.json()
        changed = await self.p.scheduler.set_enabled(
            body["service"], body["stage"], bool(body["enabled"]), list(body.get("names") or [])
        )
        return json_reply(200, {"changed": changed})

    async def _events(self, req: ApiRequest) -> Reply:
        """EventBridge's PutEvents, handed over by the AWS endpoint: each entry matched against
        the current deployments' rules, each delivery queued as an async invocation."""
        stages = self.p.registry.snapshot.stages.values()
        rules = eventbridge.rules_from_extras(info.deployment.extra for info in stages)
        answer, queued = eventbridge.put_events(req.json(), rules, datetime.now(UTC))
        for function, payload in queued:
            await self.enqueue(function, payload, None)
        return json_reply(200, answer)

    async def _dlq(self, req: ApiRequest) -> Reply:
        functions = await self._log_functions(req.query.get("service", ""),
                                              req.query.get("stage", ""), None)
        dead = await self.p.asyncq.dead(functions)
        return json_reply(200, {"events": [e.summary() for e in dead]})

    async def _redrive(self, req: ApiRequest) -> Reply:
        body = req.json()
        functions = await self._log_functions(body["service"], body["stage"], None)
        ids = await self.p.asyncq.redrive(functions, list(body.get("ids") or []))
        return json_reply(200, {"redriven": ids})


def _error_summary(status: str, decoded: Any) -> str:
    if isinstance(decoded, dict) and "errorMessage" in decoded:
        return f"{decoded.get('errorType', status)}: {decoded['errorMessage']}"
    return f"{status}: {decoded}"


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def parse_query(raw: str | bytes) -> dict[str, str]:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return dict(parse_qsl(text, keep_blank_values=True))
