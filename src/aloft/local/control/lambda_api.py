"""Lambda's API besides Invoke, on the gateway's port: reads of what the local cloud runs, and the
few writes Lambda applies without a deploy (reserved concurrency, async settings, the alias,
event source mappings). Whatever deploys code answers an error that points to `aloft deploy`.

The writes and mappings are lambda_tuning.py's and lambda_mappings.py's. The control handler
(control_api.py) authenticates the request (SigV4, invoke_auth.py) and
passes it here with its caller; a function may call what its grants allow (`lambda:GetFunction`
...), the user anything. Shapes are lambda_shapes.py's.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aloft import errors
from aloft.local.control import invoke_auth
from aloft.local.control import lambda_shapes as shapes
from aloft.local.control.invoke_api import ApiRequest, Reply, error, function_arn
from aloft.local.control.lambda_base import request_body
from aloft.local.control.lambda_mappings import LambdaMappings
from aloft.local.control.lambda_tuning import LambdaTuning
from aloft.local.services.auth import is_allowed
from aloft.local.types import FunctionVersion

CODE_PATH = "/2015-03-31/code/"
CODE_URL_SECONDS = 600  # as long as Lambda's presigned Code.Location is valid
_NAME = r"(?P<name>[^/]+)"

REFUSED = {
    "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "DeleteFunction",
    "PublishVersion", "CreateAlias", "DeleteAlias", "CreateEventSourceMapping",
    "DeleteEventSourceMapping", "AddPermission", "RemovePermission", "TagResource",
    "UntagResource", "PublishLayerVersion", "CreateFunctionUrlConfig",
}


@dataclass(frozen=True)
class Op:
    method: str
    path: re.Pattern[str]
    name: str  # Lambda's operation name (and the IAM action's)


def _op(method: str, path: str, name: str) -> Op:
    return Op(method, re.compile("^" + path.replace("{name}", _NAME) + "/?$"), name)


OPERATIONS = (
    _op("GET", "/2015-03-31/functions", "ListFunctions"),
    _op("GET", "/2015-03-31/functions/{name}", "GetFunction"),
    _op("GET", "/2015-03-31/functions/{name}/configuration", "GetFunctionConfiguration"),
    _op("GET", "/2015-03-31/functions/{name}/versions", "ListVersionsByFunction"),
    _op("GET", "/2015-03-31/functions/{name}/aliases", "ListAliases"),
    _op("GET", "/2015-03-31/functions/{name}/aliases/(?P<alias>[^/]+)", "GetAlias"),
    _op("PUT", "/2015-03-31/functions/{name}/aliases/(?P<alias>[^/]+)", "UpdateAlias"),
    _op("GET", "/2015-03-31/functions/{name}/policy", "GetPolicy"),
    _op("GET", "/2015-03-31/event-source-mappings", "ListEventSourceMappings"),
    _op("GET", "/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)", "GetEventSourceMapping"),
    _op("PUT", "/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)", "UpdateEventSourceMapping"),
    _op("GET", "/2019-09-30/functions/{name}/concurrency", "GetFunctionConcurrency"),
    _op("PUT", "/2017-10-31/functions/{name}/concurrency", "PutFunctionConcurrency"),
    _op("DELETE", "/2017-10-31/functions/{name}/concurrency", "DeleteFunctionConcurrency"),
    # GET with `List=ALL` is ListProvisionedConcurrencyConfigs (the same path)
    _op("GET", "/2019-09-30/functions/{name}/provisioned-concurrency",
        "GetProvisionedConcurrencyConfig"),
    _op("PUT", "/2019-09-30/functions/{name}/provisioned-concurrency",
        "PutProvisionedConcurrencyConfig"),
    _op("DELETE", "/2019-09-30/functions/{name}/provisioned-concurrency",
        "DeleteProvisionedConcurrencyConfig"),
    _op("GET", "/2019-09-25/functions/{name}/event-invoke-config",
        "GetFunctionEventInvokeConfig"),
    _op("PUT", "/2019-09-25/functions/{name}/event-invoke-config",
        "PutFunctionEventInvokeConfig"),
    _op("POST", "/2019-09-25/functions/{name}/event-invoke-config",
        "UpdateFunctionEventInvokeConfig"),
    _op("GET", "/2017-03-31/tags/(?P<arn>[^/]+)", "ListTags"),
    _op("GET", "/2016-08-19/account-settings", "GetAccountSettings"),
    # what deploys code or changes what aloft.yml declares: refused (REFUSED)
    _op("POST", "/2015-03-31/functions", "CreateFunction"),
    _op("PUT", "/2015-03-31/functions/{name}/code", "UpdateFunctionCode"),
    _op("PUT", "/2015-03-31/functions/{name}/configuration", "UpdateFunctionConfiguration"),
    _op("DELETE", "/2015-03-31/functions/{name}", "DeleteFunction"),
    _op("POST", "/2015-03-31/functions/{name}/versions", "PublishVersion"),
    _op("POST", "/2015-03-31/functions/{name}/aliases", "CreateAlias"),
    _op("DELETE", "/2015-03-31/functions/{name}/aliases/(?P<alias>[^/]+)", "DeleteAlias"),
    _op("POST", "/2015-03-31/event-source-mappings", "CreateEventSourceMapping"),
    _op("DELETE", "/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)",
        "DeleteEventSourceMapping"),
    _op("POST", "/2015-03-31/functions/{name}/policy", "AddPermission"),
    _op("DELETE", "/2015-03-31/functions/{name}/policy/(?P<sid>[^/]+)", "RemovePermission"),
    _op("POST", "/2017-03-31/tags/(?P<arn>[^/]+)", "TagResource"),
    _op("DELETE", "/2017-03-31/tags/(?P<arn>[^/]+)", "UntagResource"),
    _op("POST", "/2018-10-31/layers/(?P<layer>[^/]+)/versions", "PublishLayerVersion"),
    _op("POST", "/2021-10-31/functions/{name}/url", "CreateFunctionUrlConfig"),
)


def find_operation(method: str, path: str) -> tuple[Op, dict[str, str]] | None:
    for op in OPERATIONS:
        if op.method == method:
            match = op.path.match(path)
            if match:
                return op, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def code_url(port: int, secret: str, sha256: str, now: float) -> str:
    """`Code.Location`: a URL on the gateway that serves the version's code zip for 10 minutes
    without a signature of its own, as Lambda's presigned S3 URL does."""
    expires = int(now) + CODE_URL_SECONDS
    mac = hmac.new(secret.encode(), f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()
    return (f"http://127.0.0.1:{port}{CODE_PATH}{sha256}.zip?Expires={expires}"
            f"&Signature={mac}")


def code_url_ok(secret: str, sha256: str, query: dict[str, str], now: float) -> bool:
    expires = query.get("Expires", "")
    if not expires.isdigit() or int(expires) < now:
        return False
    mac = hmac.new(secret.encode(), f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, query.get("Signature", ""))


Handler = Callable[["ApiRequest", dict[str, str], str], Awaitable[Reply]]


class LambdaApi(LambdaTuning, LambdaMappings):
    async def handle(self, req: ApiRequest, caller: invoke_auth.Caller,
                     request_id: str) -> Reply:
        found = find_operation(req.method, req.path)
        if found is None:
            return error(404, "UnknownOperationException",
                         f"unsupported operation {req.method} {req.path}", request_id)
        op, params = found
        if op.name in REFUSED:
            return refused(op.name, request_id)
        denied = self._denied(caller, op.name, params, request_id)
        if denied is not None:
            return denied
        handler: Handler = getattr(self, "_" + _snake(op.name))
        try:
            return await handler(req, params, request_id)
        except errors.AloftError as exc:
            return error(409, "ResourceConflictException", exc.message, request_id)

    def _denied(self, caller: invoke_auth.Caller, operation: str, params: dict[str, str],
                request_id: str) -> Reply | None:
        fn = caller.function
        if fn is None:
            return None
        resource = "*"
        if "name" in params:
            name, qualifier = shapes.split_name(params["name"])
            resource = function_arn(name) + (f":{qualifier}" if qualifier else "")
        action = f"lambda:{operation}"
        if is_allowed(fn.statements, action, resource):
            return None
        return error(403, "AccessDeniedException",
                     f"User: {fn.function} is not authorized to perform: {action} on resource: "
                     f"{resource} (aloft: grant it in the function's `permissions`)", request_id)

    # -- functions -------------------------------------------------------------------------

    async def _list_functions(self, req: ApiRequest, params: dict[str, str],
                              request_id: str) -> Reply:
        snap = self.p.registry.snapshot
        items: list[tuple[FunctionVersion, str | None]] = [
            (fv, None) for _, fv in sorted(snap.current.items())]
        if req.query.get("FunctionVersion") == "ALL":
            items = [(fv, q) for fv, _ in items for q in [None, *(
                str(v) for f, v in sorted(snap.versions) if f == fv.function)]]
            items = [(snap.versions.get((fv.function, int(q)), fv) if q else fv, q)
                     for fv, q in items]
        return await shapes.paged("Functions", items, req.query, request_id,
                                  lambda item: self._config(*item))

    async def _get_function(self, req: ApiRequest, params: dict[str, str],
                            request_id: str) -> Reply:
        found = self._function(params["name"], req.query, request_id)
        if isinstance(found, Reply):
            return found
        fv, qualifier = found
        config = await self._config(fv, qualifier)
        rec = await asyncio.to_thread(self.p.state.version, fv.function, fv.version)
        location = code_url(self.p.port, self.p.token, rec.code_sha256 if rec else "",
                            time.time())
        owner = self.p.registry.snapshot.stage_of.get(fv.function)
        out: dict[str, Any] = {
            "Configuration": config,
            "Code": {"RepositoryType": "S3", "Location": location},
            "Tags": _tags(owner),
        }
        if fv.concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": fv.concurrency}
        return shapes.json_reply(200, out, request_id)

    async def _get_function_configuration(self, req: ApiRequest, params: dict[str, str],
                                          request_id: str) -> Reply:
        found = self._function(params["name"], req.query, request_id)
        if isinstance(found, Reply):
            return found
        return shapes.json_reply(200, await self._config(*found), request_id)

    async def _list_versions_by_function(self, req: ApiRequest, params: dict[str, str],
                                         request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        fv, _ = found
        snap = self.p.registry.snapshot
        items: list[tuple[FunctionVersion, str | None]] = [(fv, None)] + [
            (v, str(n)) for (f, n), v in sorted(snap.versions.items()) if f == fv.function]
        return await shapes.paged("Versions", items, req.query, request_id,
                                  lambda item: self._config(*item))

    # -- the alias ---------------------------------------------------------------------------

    async def _list_aliases(self, req: ApiRequest, params: dict[str, str],
                            request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        fv, _ = found
        stage = self._stage_of(fv.function)[1]
        aliases = [shapes.alias(fv.function, stage, fv.version)]
        wanted = req.query.get("FunctionVersion")
        aliases = [a for a in aliases if wanted in (None, a["FunctionVersion"])]
        return await shapes.paged("Aliases", aliases, req.query, request_id, lambda a: a)

    def _alias_target(self, params: dict[str, str], request_id: str
                      ) -> tuple[FunctionVersion, str] | Reply:
        name, _ = shapes.split_name(params["name"])
        fv = self.p.registry.current(name)
        stage = self.p.registry.snapshot.stage_of.get(name)
        if fv is None or stage is None:
            return shapes.not_found(f"Function not found: {function_arn(name)}", request_id)
        if params["alias"] != stage[1]:
            return shapes.not_found(f"Alias not found: {function_arn(name)}:{params['alias']}"
                                    f" (the local cloud's only alias of a function is its "
                                    f"stage, {stage[1]!r})", request_id)
        return fv, stage[1]

    async def _get_alias(self, req: ApiRequest, params: dict[str, str],
                         request_id: str) -> Reply:
        found = self._alias_target(params, request_id)
        if isinstance(found, Reply):
            return found
        fv, stage = found
        return shapes.json_reply(200, shapes.alias(fv.function, stage, fv.version), request_id)

    async def _update_alias(self, req: ApiRequest, params: dict[str, str],
                            request_id: str) -> Reply:
        """A manual rollback: the stage serves again the newest deployment in which the
        function was at that version (the local cloud's alias is the stage's, for every
        function at once)."""
        found = self._alias_target(params, request_id)
        if isinstance(found, Reply):
            return found
        fv, stage = found
        body = request_body(req)
        if isinstance(body, str):
            return shapes.invalid(body, request_id)
        if body.get("RoutingConfig", {}).get("AdditionalVersionWeights"):
            return shapes.invalid("weighted aliases (RoutingConfig) are not supported by the "
                                  "local cloud: it serves one version per stage", request_id)
        wanted = body.get("FunctionVersion")
        if wanted is None or str(wanted) == str(fv.version):
            return shapes.json_reply(200, shapes.alias(fv.function, stage, fv.version),
                                     request_id)
        if not str(wanted).isdigit():
            return shapes.invalid(f"FunctionVersion {wanted!r} is not a published version "
                                  "number", request_id)
        service = self._stage_of(fv.function)[0]
        history = await asyncio.to_thread(self.p.state.deployments, service, stage)
        target = next((d for d in reversed(history)
                       if fv.function in d.physical.values()
                       and d.functions.get(_logical(d.physical, fv.function)) == int(wanted)),
                      None)
        if target is None:
            return shapes.not_found(f"Function not found: {function_arn(fv.function)}:"
                                    f"{wanted} (no kept deployment of stage {stage!r} serves "
                                    "that version)", request_id)
        await self.p.deployer.rollback(service, stage, to=target.number)
        now = self.p.registry.current(fv.function) or fv
        return shapes.json_reply(200, shapes.alias(fv.function, stage, now.version), request_id)

    async def _get_policy(self, req: ApiRequest, params: dict[str, str],
                          request_id: str) -> Reply:
        found = self._function(params["name"], req.query, request_id)
        if isinstance(found, Reply):
            return found
        fv, qualifier = found
        statements = await asyncio.to_thread(self._policy, fv, qualifier)
        if not statements:
            return shapes.not_found("The resource you requested does not exist.", request_id)
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return shapes.json_reply(200, {"Policy": json.dumps(policy), "RevisionId":
                                       shapes.revision(fv.function, fv.version, "policy")},
                                 request_id)

    def _policy(self, fv: FunctionVersion, qualifier: str | None) -> list[dict[str, Any]]:
        """Who may invoke the function as its triggers do: the API, schedules, topics and
        buckets (what aloft's deploy on AWS grants with AddPermission)."""
        snap = self.p.registry.snapshot
        owner = snap.stage_of.get(fv.function)
        info = self.p.registry.stage(*owner) if owner else None
        resource = function_arn(fv.function) + (f":{qualifier}" if qualifier else "")
        principals: list[str] = []
        if info and any(r.function == fv.function for r in info.routes.routes):
            principals.append("apigateway.amazonaws.com")
        if owner and any(r.function == fv.function
                         for r in self.p.state.schedules(*owner)):
            principals.append("events.amazonaws.com")
        for binding in self._bindings():
            if binding.function == fv.function and binding.kind in ("topic", "bucket"):
                principals.append("sns.amazonaws.com" if binding.kind == "topic"
                                  else "s3.amazonaws.com")
        return [{"Sid": f"aloft-{p.split('.')[0]}", "Effect": "Allow",
                 "Principal": {"Service": p}, "Action": "lambda:InvokeFunction",
                 "Resource": resource} for p in dict.fromkeys(principals)]

    # -- tags and the account ----------------------------------------------------------------

    async def _list_tags(self, req: ApiRequest, params: dict[str, str],
                         request_id: str) -> Reply:
        name, _ = shapes.split_name(params["arn"])
        owner = self.p.registry.snapshot.stage_of.get(name)
        if owner is None:
            return shapes.not_found(f"Function not found: {function_arn(name)}", request_id)
        return shapes.json_reply(200, {"Tags": _tags(owner)}, request_id)

    async def _get_account_settings(self, req: ApiRequest, params: dict[str, str],
                                    request_id: str) -> Reply:
        snap = self.p.registry.snapshot
        account = self.p.pool.account_concurrency
        reserved = sum(fv.concurrency or 0 for fv in snap.current.values())
        size = await asyncio.to_thread(self._code_size)
        return shapes.json_reply(200, {
            "AccountLimit": {
                "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800, "ConcurrentExecutions": account,
                "UnreservedConcurrentExecutions": max(0, account - reserved),
            },
            "AccountUsage": {"TotalCodeSize": size, "FunctionCount": len(snap.current)},
        }, request_id)

    def _code_size(self) -> int:
        return sum(p.stat().st_size for p in self.p.store.root.glob("*.zip"))


def refused(operation: str, request_id: str) -> Reply:
    return error(400, "InvalidRequestContentException",
                 f"{operation} is not supported by the local cloud: its functions, versions, "
                 "aliases, mappings and permissions come from aloft.yml. Change aloft.yml and "
                 "run `aloft deploy STAGE` (or `aloft rollback STAGE` to serve an earlier "
                 "version).", request_id)


def _tags(owner: tuple[str, str] | None) -> dict[str, str]:
    return {} if owner is None else {"aloft:service": owner[0], "aloft:stage": owner[1]}


def _logical(physical: dict[str, str], function: str) -> str:
    return next((k for k, v in physical.items() if v == function), "")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
