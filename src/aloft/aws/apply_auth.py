"""Apply steps for the API's authorization: authorizers (made before the routes that name them,
dropped once no route does), each route's authorization, the REST API's usage plan and keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_base import ApplyContext, Undo
from aloft.aws.auth import key_matches
from aloft.aws.names import TAG_SERVICE, TAG_STAGE
from aloft.aws.state_auth import lambda_uri, rest_authorizers
from aloft.errors import DeployError


class AuthSteps(ApplyContext):
    """Authorizers and API keys of the stage's API (HTTP API v2 and REST API v1)."""

    def _authorizer_uri(self, function: str) -> str:
        have = self.actual.functions
        physical = self.physical.get(function) or have[function].physical
        alias = self.aws.account.arn("lambda", f"function:{physical}:{self.stage}")
        return lambda_uri(self.aws.account.partition, self.region, alias)

    # -- HTTP APIs ----------------------------------------------------------------------------

    def _http_authorizer_ids(self, api_id: str) -> dict[str, str]:
        api = self.actual.api
        return dict(api.authorizer_ids) if api is not None and api.id == api_id else {}

    def _http_authorizers(self, api_id: str, spec: s.ApiSpec) -> dict[str, str]:
        """The API's authorizers made or updated as `spec` declares them: name -> id."""
        ids = self._http_authorizer_ids(api_id)
        have = {a.name: a for a in self.actual.api.authorizers} \
            if self.actual.api is not None and self.actual.api.id == api_id else {}
        for a in spec.authorizers:
            params = self._http_authorizer_params(a)
            if a.name in have and have[a.name].kind != a.kind:
                # another kind is another authorizer (its routes were deleted: the plan
                # makes them anew with the new AuthorizationType)
                self._ignore_missing("apigatewayv2", "delete_authorizer", ApiId=api_id,
                                     AuthorizerId=ids.pop(a.name))
            if a.name not in ids:
                got = self.aws.call("apigatewayv2", "create_authorizer", ApiId=api_id,
                                    Name=a.name, **params)
                ids[a.name] = str(got["AuthorizerId"])
            elif have.get(a.name) != a:
                self.aws.call("apigatewayv2", "update_authorizer", ApiId=api_id,
                              AuthorizerId=ids[a.name], Name=a.name, **params)
        return ids

    def _http_authorizer_params(self, a: s.AuthorizerSpec) -> dict[str, Any]:
        if a.kind == "jwt":
            return {"AuthorizerType": "JWT", "IdentitySource": list(a.identity),
                    "JwtConfiguration": {"Issuer": a.issuer, "Audience": list(a.audience)}}
        assert a.function is not None  # the config requires one
        params: dict[str, Any] = {
            "AuthorizerType": "REQUEST", "IdentitySource": list(a.identity),
            "AuthorizerUri": self._authorizer_uri(a.function),
            "AuthorizerPayloadFormatVersion": a.payload or "2.0",
            "AuthorizerResultTtlInSeconds": a.ttl}
        if (a.payload or "2.0") == "2.0":
            params["EnableSimpleResponses"] = a.simple_responses
        return params

    def _http_route_params(self, route: s.RouteSpec, spec: s.ApiSpec,
                           ids: Mapping[str, str]) -> dict[str, Any]:
        """create_route's authorization parameters for `route`."""
        if route.authorizer is None:
            return {}
        if route.authorizer not in ids:
            raise DeployError(
                f"route {route.key!r} names authorizer {route.authorizer!r}, which the API "
                "does not have", where=self.aws.where,
                fix="deploy (not rollback) to create it, or remove it from the route")
        found = next((a for a in spec.authorizers if a.name == route.authorizer), None)
        jwt = found.kind == "jwt" if found is not None else bool(route.scopes)
        params: dict[str, Any] = {"AuthorizationType": "JWT" if jwt else "CUSTOM",
                                  "AuthorizerId": ids[route.authorizer]}
        if route.scopes:
            params["AuthorizationScopes"] = list(route.scopes)
        return params

    def _drop_http_authorizers(self, api_id: str, spec: s.ApiSpec,
                               ids: Mapping[str, str]) -> None:
        """The authorizers `spec` no longer declares (no route names them any more)."""
        keep = {a.name for a in spec.authorizers}
        for name, i in ids.items():
            if name not in keep:
                self._ignore_missing("apigatewayv2", "delete_authorizer", ApiId=api_id,
                                     AuthorizerId=i)

    # -- REST APIs ----------------------------------------------------------------------------

    def _rest_authorizers(self, api_id: str, spec: s.ApiSpec) -> dict[str, str]:
        """With the API's methods deleted: its authorizers as `spec` declares them (changed
        ones made anew). name -> id."""
        have = {a.name: (i, a) for i, a in rest_authorizers(
            self.aws, api_id, self._alias_names()).items()}
        want = {a.name: a for a in spec.authorizers}
        for name, (i, a) in have.items():
            if want.get(name) != a:
                self._ignore_missing("apigateway", "delete_authorizer", restApiId=api_id,
                                     authorizerId=i)
        out = {}
        for name, a in want.items():
            if name in have and have[name][1] == a:
                out[name] = have[name][0]
                continue
            assert a.function is not None  # REST APIs have Lambda authorizers only
            params: dict[str, Any] = {
                "restApiId": api_id, "name": name,
                "type": "TOKEN" if a.kind == "token" else "REQUEST",
                "authorizerUri": self._authorizer_uri(a.function),
                "identitySource": ",".join(a.identity),
                "authorizerResultTtlInSeconds": a.ttl}
            if a.validation:
                params["identityValidationExpression"] = a.validation
            got = self.aws.call("apigateway", "create_authorizer", **params)
            out[name] = str(got["id"])
            if a.validation and not got.get("identityValidationExpression"):
                # an endpoint that drops it on create (moto 5) takes it as a patch
                self.aws.call("apigateway", "update_authorizer", restApiId=api_id,
                              authorizerId=out[name], patchOperations=[{
                                  "op": "replace", "path": "/identityValidationExpression",
                                  "value": a.validation}])
        return out

    def _alias_names(self) -> dict[str, str]:
        """Stage alias ARN -> logical function (to read authorizers' functions back)."""
        acct = self.aws.account
        names = {**{n: f.physical for n, f in self.actual.functions.items()}, **self.physical}
        return {acct.arn("lambda", f"function:{p}:{self.stage}"): n for n, p in names.items()}

    def _rest_method_params(self, route: s.RouteSpec,
                            ids: Mapping[str, str]) -> dict[str, Any]:
        """put_method's authorization parameters for `route`."""
        params: dict[str, Any] = {"authorizationType": "NONE"}
        if route.authorizer is not None:
            if route.authorizer not in ids:
                raise DeployError(
                    f"route {route.key!r} names authorizer {route.authorizer!r}, which the "
                    "API does not have", where=self.aws.where,
                    fix="deploy (not rollback) to create it, or remove it from the route")
            params = {"authorizationType": "CUSTOM", "authorizerId": ids[route.authorizer]}
        if route.api_key:
            params["apiKeyRequired"] = True
        return params

    # -- usage plan and API keys (REST) -------------------------------------------------------

    def _do_PutUsagePlan(self, x: st.PutUsagePlan) -> Undo:
        if self.api is None or self.api[0] != "rest":
            raise DeployError("the usage plan needs the stage's REST API, which is not there",
                              where=self.aws.where,
                              fix="deploy again: it completes what is left")
        spec, have, api_id = x.spec, self.actual.usage_plan, self.api[1]
        undo: Undo = []
        limits = _limits(spec)
        if have is None:
            got = self.aws.call("apigateway", "create_usage_plan", name=spec.name,
                                description=spec.description, tags=self._key_tags(),
                                apiStages=[{"apiId": api_id, "stage": x.stage}], **limits)
            plan_id = str(got["id"])
            undo.append(st.DeleteUsagePlan(plan_id, ()))
        else:
            plan_id = have.id
            ops = _limit_ops(spec, have.spec)
            stages = [{"op": "remove", "path": "/apiStages", "value": f"{a}:{st_}"}
                      for a, st_ in have.stages if (a, st_) != (api_id, x.stage)]
            if (api_id, x.stage) not in have.stages:
                stages.append({"op": "add", "path": "/apiStages", "value": f"{api_id}:{x.stage}"})
            if ops or stages:
                self.aws.call("apigateway", "update_usage_plan", usagePlanId=plan_id,
                              patchOperations=ops + stages)
        undo += self._sync_keys(plan_id, spec)
        return undo

    def _sync_keys(self, plan_id: str, spec: s.UsagePlanSpec) -> Undo:
        """Keys made and added to the plan; removed or changed ones deleted (a key's value
        is fixed once made). The undo deletes the keys this made."""
        have = self.actual.usage_plan
        have_keys = {k.name: k for k in have.spec.keys} if have else {}
        ids = dict(have.key_ids) if have else {}
        want = {k.name: k for k in spec.keys}
        for name, i in ids.items():
            if name not in want or not key_matches(want[name], have_keys[name]):
                self._ignore_missing("apigateway", "delete_api_key", apiKey=i)
        made: list[tuple[str, str]] = []
        for name, k in want.items():
            if name in have_keys and key_matches(k, have_keys[name]):
                continue
            params: dict[str, Any] = {"name": name, "enabled": True,
                                      "description": k.description, "tags": self._key_tags()}
            if k.value is not None:
                params["value"] = k.value
            key_id = str(self.aws.call("apigateway", "create_api_key", **params)["id"])
            made.append((name, key_id))
            self.aws.call("apigateway", "create_usage_plan_key", usagePlanId=plan_id,
                          keyId=key_id, keyType="API_KEY")
        return [st.DeleteUsagePlan("", tuple(made))] if made else []

    def _key_tags(self) -> dict[str, str]:
        return {TAG_SERVICE: self.service, TAG_STAGE: self.stage}

    def _do_DeleteUsagePlan(self, x: st.DeleteUsagePlan) -> Undo:
        if x.plan_id:
            got = self.aws.find("apigateway", "get_usage_plan", usagePlanId=x.plan_id)
            stages = [{"op": "remove", "path": "/apiStages",
                       "value": f"{a['apiId']}:{a['stage']}"}
                      for a in (got or {}).get("apiStages") or ()]
            if stages:
                self._ignore_missing("apigateway", "update_usage_plan", usagePlanId=x.plan_id,
                                     patchOperations=stages)
            self._ignore_missing("apigateway", "delete_usage_plan", usagePlanId=x.plan_id)
        for _, key_id in x.keys:
            self._ignore_missing("apigateway", "delete_api_key", apiKey=key_id)
        return []


def _limits(spec: s.UsagePlanSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.quota_limit is not None:
        out["quota"] = {"limit": spec.quota_limit, "period": spec.quota_period,
                        "offset": spec.quota_offset}
    if spec.rate_limit is not None and spec.burst_limit is not None:
        out["throttle"] = {"rateLimit": spec.rate_limit, "burstLimit": spec.burst_limit}
    return out


def _limit_ops(want: s.UsagePlanSpec, have: s.UsagePlanSpec) -> list[dict[str, str]]:
    """update_usage_plan's patch operations from `have`'s limits to `want`'s."""
    ops: list[dict[str, str]] = []
    if want.description != have.description:
        ops.append({"op": "replace", "path": "/description", "value": want.description})
    for group, fields in (("quota", (("limit", "quota_limit"), ("period", "quota_period"),
                                     ("offset", "quota_offset"))),
                          ("throttle", (("rateLimit", "rate_limit"),
                                        ("burstLimit", "burst_limit")))):
        first = getattr(want, fields[0][1])
        if first is None:
            if getattr(have, fields[0][1]) is not None:
                ops.append({"op": "remove", "path": f"/{group}"})
            continue
        for name, attr in fields:
            if getattr(want, attr) != getattr(have, attr):
                ops.append({"op": "replace", "path": f"/{group}/{name}",
                            "value": _text(getattr(want, attr))})
    return ops


def _text(value: object) -> str:
    """A patch value: whole rates without a fraction (`5`, not `5.0`)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
