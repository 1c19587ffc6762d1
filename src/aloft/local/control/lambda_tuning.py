"""Lambda's API: what a user tunes without a deploy, applied to the running platform and kept
with the stage's current deployment (a deploy that changes the stage starts again from
aloft.yml): reserved and provisioned concurrency, and the settings of asynchronous
invocations."""

from __future__ import annotations

import time
from typing import Any

from aloft.local.control import lambda_shapes as shapes
from aloft.local.control.invoke_api import ApiRequest, Reply, error, function_arn
from aloft.local.control.lambda_base import LambdaBase, request_body
from aloft.local.store.registry import CONCURRENCY_KEY, PROVISIONED_KEY
from aloft.local.types import FunctionVersion

ASYNC_KEY = "async"


class LambdaTuning(LambdaBase):
    # -- concurrency -------------------------------------------------------------------------

    async def _get_function_concurrency(self, req: ApiRequest, params: dict[str, str],
                                        request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        fv, _ = found
        out = {} if fv.concurrency is None else {"ReservedConcurrentExecutions": fv.concurrency}
        return shapes.json_reply(200, out, request_id)

    async def _put_function_concurrency(self, req: ApiRequest, params: dict[str, str],
                                        request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        fv, _ = found
        account = self.p.pool.account_concurrency
        value = await self._put(req, fv.function, CONCURRENCY_KEY, 0, account, (
            f"Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [0] (the local "
            f"cloud's account limit is {account}: `aloft cloud start --concurrency N` raises "
            f"it)"), request_id)
        return value if isinstance(value, Reply) else shapes.json_reply(
            200, {"ReservedConcurrentExecutions": value}, request_id)

    async def _delete_function_concurrency(self, req: ApiRequest, params: dict[str, str],
                                           request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        await self._amend(found[0].function, CONCURRENCY_KEY, None)
        return Reply(204, b"", {"X-Amzn-RequestId": request_id})

    async def _put(self, req: ApiRequest, function: str, key: str, least: int, most: int,
                   too_many: str, request_id: str) -> int | Reply:
        """The body's count (`ReservedConcurrentExecutions`, `ProvisionedConcurrentExecutions`:
        what `key` keeps), from `least` to `most`, kept as the function's; or Lambda's 400."""
        field = {CONCURRENCY_KEY: "ReservedConcurrentExecutions",
                 PROVISIONED_KEY: "ProvisionedConcurrentExecutions"}[key]
        body = request_body(req)
        if isinstance(body, str):
            return shapes.invalid(body, request_id)
        value = body.get(field)
        if not isinstance(value, int) or value < least:
            return shapes.invalid(f"{field} must be a number, {least} or more", request_id)
        if value > most:
            return shapes.invalid(too_many, request_id)
        await self._amend(function, key, value)
        return value

    async def _amend(self, function: str, key: str, value: int | None) -> None:
        """The function's entry of the deployment's `extra[key]` (reserved or provisioned
        concurrency) set to `value`."""
        service, stage = self._stage_of(function)

        def update(old: Any) -> dict[str, Any]:
            return {**(old or {}), function: value}

        await self.p.deployer.amend(service, stage, key, update)

    # -- asynchronous invocation -------------------------------------------------------------

    def _invoke_config(self, function: str) -> dict[str, Any] | None:
        found = self.p.registry.snapshot.async_config.get(function)
        if found is None:
            return None
        retries, max_age = found
        on_success, on_failure, _ = self.p.registry.snapshot.destinations.get(
            function, (None, None, None))
        targets = {key: {"Destination": arn} for key, arn in (
            ("OnSuccess", on_success), ("OnFailure", on_failure)) if arn}
        return {"FunctionArn": function_arn(function), "MaximumRetryAttempts": retries,
                "MaximumEventAgeInSeconds": max_age, "LastModified": time.time(),
                "DestinationConfig": targets}

    async def _get_function_event_invoke_config(self, req: ApiRequest, params: dict[str, str],
                                                request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        config = self._invoke_config(found[0].function)
        if config is None:
            return shapes.not_found(f"The function {function_arn(found[0].function)} doesn't "
                                    "have an EventInvokeConfig", request_id)
        return shapes.json_reply(200, config, request_id)

    async def _put_function_event_invoke_config(self, req: ApiRequest, params: dict[str, str],
                                                request_id: str) -> Reply:
        found = self._function(params["name"], {}, request_id)
        if isinstance(found, Reply):
            return found
        function = found[0].function
        body = request_body(req)
        if isinstance(body, str):
            return shapes.invalid(body, request_id)
        if body.get("DestinationConfig"):
            return shapes.invalid("DestinationConfig is not supported by the local cloud's "
                                  "API: declare the function's `destinations` in aloft.yml "
                                  "and run `aloft deploy`", request_id)
        current = self._invoke_config(function) or {"MaximumRetryAttempts": 2,
                                                     "MaximumEventAgeInSeconds": 21600}
        partial = req.method == "POST"  # Update keeps what it does not name; Put resets
        retries = body.get("MaximumRetryAttempts",
                           current["MaximumRetryAttempts"] if partial else 2)
        max_age = body.get("MaximumEventAgeInSeconds",
                           current["MaximumEventAgeInSeconds"] if partial else 21600)
        if not (isinstance(retries, int) and 0 <= retries <= 2):
            return shapes.invalid("MaximumRetryAttempts must be between 0 and 2", request_id)
        if not (isinstance(max_age, int) and 60 <= max_age <= 21600):
            return shapes.invalid("MaximumEventAgeInSeconds must be between 60 and 21600",
                                  request_id)
        service, stage = self._stage_of(function)

        def update(old: Any) -> dict[str, Any]:
            targets = list((old or {}).get(function, []))[2:]  # aloft.yml's targets
            return {**(old or {}), function: [retries, max_age, *targets]}

        await self.p.deployer.amend(service, stage, ASYNC_KEY, update)
        return shapes.json_reply(200, self._invoke_config(function), request_id)

    _update_function_event_invoke_config = _put_function_event_invoke_config

    # -- provisioned concurrency -------------------------------------------------------------

    def _alias_version(self, req: ApiRequest, params: dict[str, str], request_id: str
                       ) -> FunctionVersion | Reply:
        """The version a provisioned-concurrency call is about: the stage's alias, or the
        version it points at (the local cloud keeps it for that one only)."""
        found = self._function(params["name"], req.query, request_id)
        if isinstance(found, Reply):
            return found
        fv, qualifier = found
        current = self.p.registry.current(fv.function)
        if not qualifier or qualifier == "$LATEST":
            return shapes.invalid("Provisioned concurrency needs a Qualifier: the stage's alias "
                                  "or a published version", request_id)
        if current is None or current.version != fv.version:
            serving = current.version if current is not None else "none"
            return shapes.invalid(
                f"the local cloud keeps provisioned concurrency for the version its stage's "
                f"alias points at ({serving}), not for version {fv.version}", request_id)
        return current

    def _provisioned_config(self, fv: FunctionVersion) -> dict[str, Any]:
        wanted, allocated, failed = self.p.pool.provisioned(fv)
        out: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": fv.provisioned,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": "FAILED" if failed else "READY" if allocated >= wanted else "IN_PROGRESS",
            "LastModified": shapes.lambda_time(time.time()),
        }
        if failed:
            out["StatusReason"] = failed
        return out

    async def _get_provisioned_concurrency_config(self, req: ApiRequest, params: dict[str, str],
                                                  request_id: str) -> Reply:
        if req.query.get("List") == "ALL":  # ListProvisionedConcurrencyConfigs
            found = self._function(params["name"], {}, request_id)
            if isinstance(found, Reply):
                return found
            current = self.p.registry.current(found[0].function)
            configs = [] if current is None or not current.provisioned else [{
                "FunctionArn": f"{function_arn(current.function)}:"
                               f"{self._stage_of(current.function)[1]}",
                **self._provisioned_config(current)}]
            return shapes.json_reply(200, {"ProvisionedConcurrencyConfigs": configs},
                                     request_id)
        fv = self._alias_version(req, params, request_id)
        if isinstance(fv, Reply):
            return fv
        if not fv.provisioned:
            return error(404, "ProvisionedConcurrencyConfigNotFoundException",
                         "No Provisioned Concurrency Config found for this function", request_id)
        return shapes.json_reply(200, self._provisioned_config(fv), request_id)

    async def _put_provisioned_concurrency_config(self, req: ApiRequest, params: dict[str, str],
                                                  request_id: str) -> Reply:
        fv = self._alias_version(req, params, request_id)
        if isinstance(fv, Reply):
            return fv
        limit = min(self.p.pool.account_concurrency,
                    fv.concurrency if fv.concurrency is not None else 10**6)
        value = await self._put(req, fv.function, PROVISIONED_KEY, 1, limit, (
            f"Requested Provisioned Concurrency should not be greater than the reserved "
            f"concurrency or the account's limit ({limit}; `aloft cloud start --concurrency N` "
            f"raises the local cloud's)"), request_id)
        if isinstance(value, Reply):
            return value
        current = self.p.registry.current(fv.function) or fv
        return shapes.json_reply(202, self._provisioned_config(current), request_id)

    async def _delete_provisioned_concurrency_config(self, req: ApiRequest,
                                                     params: dict[str, str],
                                                     request_id: str) -> Reply:
        fv = self._alias_version(req, params, request_id)
        if isinstance(fv, Reply):
            return fv
        await self._amend(fv.function, PROVISIONED_KEY, 0)
        return Reply(204, b"", {"X-Amzn-RequestId": request_id})

