"""Apply steps for the API: HTTP API routes and integrations, REST API resources, domains."""

from __future__ import annotations

from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_auth import AuthSteps
from aloft.aws.apply_base import Undo, cors_config
from aloft.aws.static import REFERER_REF
from aloft.errors import DeployError


class ApiSteps(AuthSteps):
    """API Gateway (v2 HTTP APIs and v1 REST APIs) in front of the stage aliases."""

    def _integration(self, api_id: str, route: s.RouteSpec, uris: dict[str, str],
                     alias_arn: str) -> str:
        key = f"{alias_arn}|{route.payload}"
        if key not in uris:
            got = self.aws.call("apigatewayv2", "create_integration", ApiId=api_id,
                                IntegrationType="AWS_PROXY", IntegrationUri=alias_arn,
                                PayloadFormatVersion=route.payload, TimeoutInMillis=30000)
            uris[key] = str(got["IntegrationId"])
        return uris[key]

    def _static_integration(self, api_id: str, uris: dict[str, str]) -> str:
        """An HTTP_PROXY integration to the static bucket, with the bucket's secret Referer;
        S3's 403 for a missing key (the bucket is not listable) becomes the 404 it means."""
        if self.static is None or REFERER_REF not in self.refs:
            raise DeployError("the static bucket's policy is not known",
                              where=self.aws.where,
                              fix="deploy again: it completes what is left")
        uri = f"{self.static.origin}/{self.static.prefix}{{proxy}}"
        referer = self.refs[REFERER_REF]
        key = f"{uri}|{referer}"
        if key not in uris:
            got = self.aws.call(
                "apigatewayv2", "create_integration", ApiId=api_id,
                IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", IntegrationUri=uri,
                PayloadFormatVersion="1.0", TimeoutInMillis=30000,
                RequestParameters={"overwrite:header.referer": referer},
                ResponseParameters={"403": {"overwrite:statuscode": "404"}})
            uris[key] = str(got["IntegrationId"])
        return uris[key]

    def _add_http_routes(self, api_id: str, routes: tuple[s.RouteSpec, ...],
                         alias_arns: dict[str, str], spec: s.ApiSpec,
                         authorizers: dict[str, str]) -> None:
        uris = {}
        for i in self.aws.call("apigatewayv2", "get_integrations",
                               ApiId=api_id).get("Items", []):
            extra = (i.get("RequestParameters") or {}).get("overwrite:header.referer") \
                if i.get("IntegrationType") == "HTTP_PROXY" else \
                i.get("PayloadFormatVersion", "2.0")
            uris[f"{i['IntegrationUri']}|{extra}"] = str(i["IntegrationId"])
        for r in routes:
            if r.function == s.STATIC_ROUTE:
                integ = self._static_integration(api_id, uris)
            else:
                integ = self._integration(api_id, r, uris, alias_arns[r.function])
            self.aws.call("apigatewayv2", "create_route", ApiId=api_id, RouteKey=r.key,
                          Target=f"integrations/{integ}",
                          **self._http_route_params(r, spec, authorizers))

    def _do_CreateApi(self, x: st.CreateApi) -> Undo:
        spec, aliases = x.spec, self._alias_arns(x.spec, x.stage)
        if spec.kind == "http":
            params: dict[str, Any] = {"Name": spec.name, "ProtocolType": "HTTP",
                                      "Tags": dict(x.tags)}
            if spec.cors:
                params["CorsConfiguration"] = cors_config(spec.cors)
            api_id = str(self.aws.call("apigatewayv2", "create_api", **params)["ApiId"])
            undo: Undo = [st.DeleteApi(api_id, "http")]
            self._add_http_routes(api_id, spec.routes, aliases, spec,
                                  self._http_authorizers(api_id, spec))
            self.aws.call("apigatewayv2", "create_stage", ApiId=api_id, StageName="$default",
                          AutoDeploy=True)
        else:
            api_id = str(self.aws.call(
                "apigateway", "create_rest_api", name=spec.name, tags=dict(x.tags),
                endpointConfiguration={"types": ["REGIONAL"]},
                binaryMediaTypes=["*/*"])["id"])
            undo = [st.DeleteApi(api_id, "rest")]
            self._rest_routes(api_id, spec, aliases, x.stage)
        self.api = (spec.kind, api_id)
        self.refs["api"] = api_id
        return undo

    def _alias_arns(self, spec: s.ApiSpec, stage: str) -> dict[str, str]:
        # A rollback may route to a function the stage has and the current config dropped.
        acct, have = self.aws.account, self.actual.functions
        return {r.function: acct.arn("lambda", f"function:"
                                     f"{self.physical.get(r.function) or have[r.function].physical}"
                                     f":{stage}")
                for r in spec.routes if r.function != s.STATIC_ROUTE}

    def _do_UpdateHttpApi(self, x: st.UpdateHttpApi) -> Undo:
        if x.spec.cors and not x.keep_cors:
            self.aws.call("apigatewayv2", "update_api", ApiId=x.api_id,
                          CorsConfiguration=cors_config(x.spec.cors))
        elif not x.keep_cors:
            self._ignore_missing("apigatewayv2", "delete_cors_configuration", ApiId=x.api_id)
        routes = {r["RouteKey"]: r["RouteId"] for r in
                  self.aws.call("apigatewayv2", "get_routes", ApiId=x.api_id).get("Items", [])}
        for key in x.remove_routes:
            if key in routes:
                self.aws.call("apigatewayv2", "delete_route", ApiId=x.api_id,
                              RouteId=routes[key])
        # a rollback changes routes only: the authorizers stay as the last deploy made them
        authorizers = self._http_authorizer_ids(x.api_id) if x.keep_cors \
            else self._http_authorizers(x.api_id, x.spec)
        self._add_http_routes(x.api_id, x.add_routes, self._alias_arns(x.spec, self.stage),
                              x.spec, authorizers)
        # Integrations no route targets any more (a removed function, an old static bucket
        # or secret) would pile up towards the API's quota.
        used = {str(r.get("Target", "")).removeprefix("integrations/") for r in
                self.aws.call("apigatewayv2", "get_routes", ApiId=x.api_id).get("Items", [])}
        for i in self.aws.call("apigatewayv2", "get_integrations",
                               ApiId=x.api_id).get("Items", []):
            if i["IntegrationId"] not in used:
                self._ignore_missing("apigatewayv2", "delete_integration", ApiId=x.api_id,
                                     IntegrationId=i["IntegrationId"])
        if not x.keep_cors:
            self._drop_http_authorizers(x.api_id, x.spec, authorizers)
        if x.keep_cors and not x.remove_routes and x.add_routes:
            # Routes a rollback adds before it deletes anything: a later failure removes them.
            return [st.UpdateHttpApi(x.api_id, x.spec, tuple(r.key for r in x.add_routes), (),
                                     keep_cors=True)]
        return []

    def _rest_routes(self, api_id: str, spec: s.ApiSpec, aliases: dict[str, str],
                     stage: str) -> None:
        aws = self.aws
        resources = aws.call("apigateway", "get_resources", restApiId=api_id,
                             limit=500).get("items", [])
        by_path = {str(r["path"]): str(r["id"]) for r in resources}
        for r in resources:  # start from a bare root: drop every method and child resource
            for method in r.get("resourceMethods", {}) or {}:
                if r["path"] == "/":
                    aws.call("apigateway", "delete_method", restApiId=api_id,
                             resourceId=r["id"], httpMethod=method)
        for path in sorted((p for p in by_path if p.count("/") == 1 and p != "/"),
                           reverse=True):
            aws.call("apigateway", "delete_resource", restApiId=api_id,
                     resourceId=by_path.pop(path))
        by_path = {"/": by_path["/"]}
        authorizers = self._rest_authorizers(api_id, spec)
        region, part = self.region, aws.account.partition
        for route in spec.routes:
            method, path = route.key.split(" ", 1)
            parent = "/"
            for segment in [p for p in path.split("/") if p]:
                child = parent.rstrip("/") + "/" + segment
                if child not in by_path:
                    by_path[child] = str(aws.call(
                        "apigateway", "create_resource", restApiId=api_id,
                        parentId=by_path[parent], pathPart=segment)["id"])
                parent = child
            rid = by_path[path if path != "" else "/"]
            aws.call("apigateway", "put_method", restApiId=api_id, resourceId=rid,
                     httpMethod=method, **self._rest_method_params(route, authorizers))
            uri = (f"arn:{part}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                   f"{aliases[route.function]}/invocations")
            aws.call("apigateway", "put_integration", restApiId=api_id, resourceId=rid,
                     httpMethod=method, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
        aws.call("apigateway", "create_deployment", restApiId=api_id, stageName=stage)
        had = self.actual.api is not None and self.actual.api.id == api_id \
            and self.actual.api.tracing
        if spec.tracing or had:  # said again: a deployment may reset the stage's settings
            self._stage_tracing(api_id, stage, spec.tracing)

    def _stage_tracing(self, api_id: str, stage: str, enabled: bool) -> None:
        self.aws.call("apigateway", "update_stage", restApiId=api_id, stageName=stage,
                      patchOperations=[{"op": "replace", "path": "/tracingEnabled",
                                        "value": "true" if enabled else "false"}])

    def _do_SetApiTracing(self, x: st.SetApiTracing) -> Undo:
        self._stage_tracing(x.api_id, x.stage, x.enabled)
        return []

    def _do_PutRestRoutes(self, x: st.PutRestRoutes) -> Undo:
        self._rest_routes(x.api_id, x.spec, self._alias_arns(x.spec, x.stage), x.stage)
        return []

    def _do_DeleteApi(self, x: st.DeleteApi) -> Undo:
        if x.kind == "http":
            self._ignore_missing("apigatewayv2", "delete_api", ApiId=x.api_id)
        else:
            self._ignore_missing("apigateway", "delete_rest_api", restApiId=x.api_id)
        if self.api and self.api[1] == x.api_id:
            self.api = None
        return []

    def _do_DeleteDomainName(self, x: st.DeleteDomainName) -> Undo:
        mappings = self.aws.find("apigatewayv2", "get_api_mappings", DomainName=x.domain)
        if mappings is None:
            return []
        for m in mappings.get("Items", []):
            self._ignore_missing("apigatewayv2", "delete_api_mapping", DomainName=x.domain,
                                 ApiMappingId=m["ApiMappingId"])
        self._ignore_missing("apigatewayv2", "delete_domain_name", DomainName=x.domain)
        return []
