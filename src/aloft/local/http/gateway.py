"""The HTTP gateway's socket-free core: `handle(request) -> response`, like API Gateway.

A request under `/{service}/{stage}` is matched to the stage's routes, becomes an HTTP API 2.0
(or REST 1.0) event, runs on the function's current version through the instance pool, and the
result becomes the response. The gateway also answers what API Gateway answers itself: 404s,
413, 429, 502, 504, CORS preflights, and the stage's static files.

Every answer to a request routed to a function is logged to the function's log stream as one
request line (aloft.access_log: method, path, status, latency, request id), and a 4xx or 5xx
is counted in the function's metrics, apart from the function's own errors.
"""

from __future__ import annotations

import asyncio
import json
from time import perf_counter

from aloft.access_log import request_line
from aloft.local.http.cors import cors_headers, preflight, route_policy
from aloft.local.http.guard import Guard, Passed, Refused
from aloft.local.http.proxy_integration import json_response, parse_http_response
from aloft.local.http.routing import RouteMatch, RouteTable, route_key
from aloft.local.http.static import serve_static
from aloft.local.instances.pool import InstancePool, new_request_id
from aloft.local.instances.trace_ids import incoming_root, lambda_trace, new_trace
from aloft.local.instances.worker.event_builders import pack_request
from aloft.local.instances.worker.proxy_response import MalformedResponse
from aloft.local.types import (
    LOCALHOST,
    CorsPolicy,
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    InvokeResult,
    Registry,
    StageRoutes,
    host_key,
)

API_ID = "local"
DEFAULT_STAGE = "$default"
_OWN = ("127.0.0.1", "localhost")  # the common Host values, skipped without a lower()
INTERNAL_ERROR = json.dumps({"message": "Internal Server Error"}).encode()
_JSON = ("content-type", "application/json")
_dumps = json.JSONEncoder(separators=(",", ":")).encode  # compact, and no per-call setup


class Gateway:
    def __init__(
        self,
        registry: Registry,
        pool: InstancePool,
        *,
        max_body: int = 10 * 2**20,
        timeout: float = 30.0,
    ) -> None:
        self.registry = registry
        self.pool = pool
        self.max_body = max_body
        self.timeout = timeout
        self._tables: dict[int, tuple[StageRoutes, RouteTable]] = {}
        self.guard = Guard(registry, pool, api_id=API_ID)

    def _table(self, stage: StageRoutes) -> RouteTable:
        # Cached by identity: the registry swaps whole StageRoutes objects on deploy.
        cached = self._tables.get(id(stage))
        if cached is not None and cached[0] is stage:
            return cached[1]
        if len(self._tables) > 256:
            self._tables.clear()
        table = RouteTable(stage.routes)
        self._tables[id(stage)] = (stage, table)
        return table

    async def handle(self, request: HttpRequest) -> HttpResponse:
        started = perf_counter()
        host = request.header("host")
        if host is not None and not host.startswith(_OWN) and LOCALHOST in host.lower():
            # `dev.shop.localhost:8750`: the stage's own host, the app at the root
            key = host_key(host)
            hosted = self.registry.stage_for_host(key) if key is not None else None
            if hosted is None:
                return self._no_stage(request, host)
            stage, rest, at_root = hosted, request.path or "/", True
        else:
            found = self.registry.stage_for_path(request.path)
            if found is None:
                return self._no_stage(request, host)
            stage, rest = found
            rest, at_root = rest or "/", False
        if stage.extras:  # CORS (the stage's or a route's), static files, authorizers
            return await self._with_extras(request, stage, rest, started, at_root)
        # The hot path, in this one coroutine: every level of awaiting between the server and
        # the instance is resumed again on each wake-up of the request.
        call = self._prepare(request, stage, rest, at_root)
        if isinstance(call, HttpResponse):
            return call
        fv, rid, payload, trace = call
        if fv.timeout <= self.timeout:  # the pool's timeout comes first: no timer of our own
            result = await self.pool.invoke(fv, payload, request_id=rid, http=True, trace=trace)
            response = self._response(fv, result, rid, trace)
            self._answered(request, fv, rid, response.status, started, result)
            return response
        return await self._invoke(request, fv, payload, rid, started, trace)

    def _answered(
        self, request: HttpRequest, fv: FunctionVersion, rid: str, status: int, started: float,
        result: InvokeResult | None,
    ) -> None:
        """The request line in the function's logs (in the stream of the instance that ran the
        request), after the invocation's END and REPORT lines when the pool left them to us
        (one log entry); a 4xx or 5xx in its metrics."""
        line = request_line(request.method, request.path, status,
                            (perf_counter() - started) * 1000.0, rid)
        if result is None:
            self.pool.log_sink.write(fv.function, fv.version, rid, line)
        else:
            report = result.report
            self.pool.log_sink.write(fv.function, fv.version, rid,
                                     line if report is None else f"{report}\n{line}",
                                     result.log_stream)
        if status >= 400:
            self.pool.metrics.response(fv.function, status, rid)
        self.pool.spinner.kick()  # the response goes out now: the client's next may follow

    async def _with_extras(
        self, request: HttpRequest, stage: StageRoutes, rest: str, started: float,
        at_root: bool,
    ) -> HttpResponse:
        """A request to a stage with CORS, static files or routes with authorizers."""
        origin = request.header("origin")
        if request.method == "OPTIONS":
            wanted = request.header("access-control-request-method")
            if wanted is not None:
                policy = self._cors_policy(stage, wanted, rest)
                if policy is not None:
                    return preflight(policy, origin, wanted,
                                     request.header("access-control-request-headers"))
                # A route without CORS: its preflight is routed like any OPTIONS request and
                # answered without CORS headers, as on a stage without CORS.
                origin = None
        static_dir = stage.static_dir
        if stage.static_path and static_dir is not None and len(request.body) <= self.max_body:
            static = await serve_static(request, stage.static_path, static_dir, rest)
            if static is not None:  # the stage's files: the stage's policy
                if origin is not None and stage.cors is not None:
                    static.headers.extend(cors_headers(stage.cors, origin))
                return static
        call = await self._guarded(request, stage, rest, at_root, started) if stage.guarded \
            else self._prepare(request, stage, rest, at_root)
        if isinstance(call, HttpResponse):
            response = call
        else:
            fv, rid, payload, trace = call
            response = await self._invoke(request, fv, payload, rid, started, trace)
        if origin is not None:
            policy = self._cors_policy(stage, request.method, rest)
            if policy is not None:
                response.headers.extend(cors_headers(policy, origin))
        return response

    def _cors_policy(self, stage: StageRoutes, method: str, rest: str) -> CorsPolicy | None:
        """The policy of the route `method rest` matches: its own `cors:` or the stage's."""
        if not stage.cors_overrides:
            return stage.cors
        match = self._table(stage).match(method, rest)
        return stage.cors if match is None else route_policy(stage.cors, match.route)

    def _prepare(
        self, request: HttpRequest, stage: StageRoutes, rest: str, at_root: bool
    ) -> tuple[FunctionVersion, str, bytes, str] | HttpResponse:
        """The function, request id, packed request and the invocation's trace
        (`_X_AMZN_TRACE_ID`); or the gateway's own answer. `at_root`: the request came to the
        stage's own host, where the app is at the root: an HTTP API event of the `$default`
        stage (no prefix in `rawPath`), or a REST event whose `requestContext.path` has none,
        as behind a custom domain."""
        found = self._match(request, stage, rest, at_root)
        if isinstance(found, HttpResponse):
            return found
        match, fv = found
        return self._pack(request, stage, rest, at_root, match, fv, new_request_id())

    def _match(
        self, request: HttpRequest, stage: StageRoutes, rest: str, at_root: bool
    ) -> tuple[RouteMatch, FunctionVersion] | HttpResponse:
        """The route the request matches and its function's current version; or the
        gateway's own answer (413, 404)."""
        if len(request.body) > self.max_body:
            return self.too_large()
        match = self._table(stage).match(request.method, rest)
        if match is None:
            return json_response(
                404,
                {
                    "message": "Not Found",
                    "routes": [f"{r.method} {'' if at_root else stage.base_path}{r.path}"
                               for r in stage.routes],
                },
            )
        fv = self.registry.current(match.route.function)
        if fv is None:
            return json_response(
                404,
                {
                    "message": f"function {match.route.function!r} has no deployed version",
                },
            )
        return match, fv

    def _pack(
        self, request: HttpRequest, stage: StageRoutes, rest: str, at_root: bool,
        match: RouteMatch, fv: FunctionVersion, rid: str, passed: Passed | None = None,
    ) -> tuple[FunctionVersion, str, bytes, str]:
        route = match.route
        # API Gateway continues the caller's trace, or starts one.
        incoming = incoming_root(request.header("x-amzn-trace-id"))
        if incoming is None:
            root, trace = new_trace()
        else:
            root, trace = incoming[0], lambda_trace(*incoming)
        # The instance builds the event from the request (see event_builders.py): no JSON
        # encoding here and decoding there on every request.
        rest_route = fv.payload == "1.0"
        packed = pack_request(
            request,
            payload=fv.payload,
            route=route.path if rest_route else route_key(route),
            path=rest,
            path_parameters=match.params,
            stage=DEFAULT_STAGE if at_root and not rest_route else stage.stage,
            api_id=API_ID,
            trace=root,
            authorizer=passed.authorizer if passed is not None else None,
            api_key=passed.api_key if passed is not None else None,
        )
        return fv, rid, packed, trace

    async def _guarded(
        self, request: HttpRequest, stage: StageRoutes, rest: str, at_root: bool, started: float
    ) -> tuple[FunctionVersion, str, bytes, str] | HttpResponse:
        """`_prepare` for a stage with authorizers or API keys: the route's checks first (a
        refusal is logged with its reason, and the request line, in the function's log)."""
        found = self._match(request, stage, rest, at_root)
        if isinstance(found, HttpResponse):
            return found
        match, fv = found
        rid = new_request_id()
        passed = await self.guard.check(request, stage, match.route, match.params, rest, rid,
                                        fv.payload)
        if isinstance(passed, Refused):
            response = passed.response
            response.headers.append(("apigw-requestid", rid))
            self.pool.log_sink.write(fv.function, fv.version, rid, f"Gateway: {passed.reason}")
            self._answered(request, fv, rid, response.status, started, None)
            return response
        return self._pack(request, stage, rest, at_root, match, fv, rid, passed)

    async def _invoke(
        self, request: HttpRequest, fv: FunctionVersion, event: bytes, rid: str, started: float,
        trace: str,
    ) -> HttpResponse:
        """Run the request on `fv` and log its request line: its response, or API Gateway's
        504 when the function runs past the gateway's timeout."""
        if fv.timeout <= self.timeout:
            result = await self.pool.invoke(fv, event, request_id=rid, http=True, trace=trace)
            response = self._response(fv, result, rid, trace)
            self._answered(request, fv, rid, response.status, started, result)
            return response
        # API Gateway stops waiting at 30 s; the function runs on to its own timeout.
        task = asyncio.ensure_future(self.pool.invoke(fv, event, request_id=rid, http=True,
                                                      trace=trace))
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if done:
            result = task.result()
            response = self._response(fv, result, rid, trace)
            self._answered(request, fv, rid, response.status, started, result)
            return response
        response = _timed_out(rid)
        self._answered(request, fv, rid, response.status, started, None)
        task.add_done_callback(lambda t: self._late_report(fv, rid, t))
        return response

    def _late_report(self, fv: FunctionVersion, rid: str, task: asyncio.Future[InvokeResult]
                     ) -> None:
        """The END and REPORT of a request the gateway answered 504 before it ended."""
        result = None if task.cancelled() or task.exception() else task.result()
        if result is not None and result.report is not None:
            self.pool.log_sink.write(fv.function, fv.version, rid, result.report,
                                     result.log_stream)

    def _response(self, fv: FunctionVersion, result: InvokeResult, rid: str, trace: str
                  ) -> HttpResponse:
        response = self._result(fv, result, rid)
        # the trace's Root, as API Gateway answers it (`trace` is `Root=...;Parent=...`)
        response.add_header("x-amzn-trace-id", trace.partition(";")[0])
        return response

    def _result(self, fv: FunctionVersion, result: InvokeResult, rid: str) -> HttpResponse:
        status = result.status
        if status == "ok" and result.response is not None:  # read by the instance already
            result.response.add_header("apigw-requestid", rid)
            return result.response
        if status == "ok":
            try:
                response = parse_http_response(result.payload, fv.payload)
            except MalformedResponse as exc:
                self.pool.log_sink.write(
                    fv.function,
                    fv.version,
                    rid,
                    f"Gateway: malformed Lambda proxy response ({exc}): answered 502",
                )
                return HttpResponse(502, [_JSON, ("apigw-requestid", rid)], INTERNAL_ERROR)
            response.headers.append(("apigw-requestid", rid))
            return response
        if status == "timeout":
            return _timed_out(rid)
        if status == "throttled":
            return HttpResponse(
                429,
                [_JSON, ("x-amzn-errortype", "TooManyRequestsException"), ("apigw-requestid", rid)],
                result.payload,
            )
        return HttpResponse(502, [_JSON, ("apigw-requestid", rid)], INTERNAL_ERROR)

    def too_large(self) -> HttpResponse:
        return json_response(
            413, {"message": "Request Entity Too Large", "limit_bytes": self.max_body}
        )

    def _no_stage(self, request: HttpRequest, host: str | None) -> HttpResponse:
        host = host or "127.0.0.1"
        port = host.rpartition(":")[2] if host[-1:].isdigit() and ":" in host else ""
        suffix = f":{port}" if port else ""
        at_host = LOCALHOST in host.lower()
        stages = [f"http://{s.host}{suffix}/" if at_host
                  else f"http://{host}{s.base_path}/" for s in self.registry.stages()]
        where = "host" if at_host else "path"
        return json_response(
            404, {"message": f"No stage is deployed at this {where}", "stages": stages}
        )


def _timed_out(rid: str) -> HttpResponse:
    return json_response(504, {"message": "Endpoint request timed out"}, [("apigw-requestid", rid)])
