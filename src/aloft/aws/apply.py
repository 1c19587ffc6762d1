"""Executing a plan: each step is a few AWS calls through the client façade.

Every step that creates something returns the step that deletes it; if a later step fails, the
applier runs those in reverse, so a failed run leaves no half-made stage (updates are left as
they are: the stage alias still points at the old version, and the next deploy completes them).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.client import AwsClient
from aloft.aws.errors import AwsNotFound
from aloft.aws.plan import fill
from aloft.aws.policy import ASSUME_ROLE_POLICY
from aloft.aws.record import Release, StateRecord
from aloft.aws.state import LAYER_MARK, ActualState
from aloft.errors import AloftError, DeployError

Undo = list[st.Step]


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _cors(c: s.CorsSpec, *, url: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowOrigins": list(c.origins), "AllowMethods": list(c.methods),
                           "AllowHeaders": list(c.headers), "AllowCredentials": c.credentials,
                           "MaxAge": c.max_age}
    if c.expose_headers:
        out["ExposeHeaders"] = list(c.expose_headers)
    if url:  # function URLs accept at most 6 methods and no bare "*" list for methods
        out["AllowMethods"] = list(c.methods)[:6]
    return out


@dataclass
class ApplyResult:
    applied: list[st.Step] = field(default_factory=list)
    release: Release | None = None
    api: tuple[str, str] | None = None
    versions: dict[str, str] = field(default_factory=dict)  # logical -> alias version
    refs: dict[str, str] = field(default_factory=dict)


class Applier:
    def __init__(self, aws: AwsClient, desired: s.Desired, actual: ActualState,
                 action: str = "deploy") -> None:
        self.aws, self.actual, self.region = aws, actual, desired.region
        self.action = action
        self.stage = desired.stage
        self.stage_prefix = f"{desired.service}-{desired.stage}"
        self.code_sha256 = desired.code_sha256
        self.physical = {f.name: f.physical for f in desired.functions}
        self.refs: dict[str, str] = {k: v for k, v in actual.refs.items() if k != "layer"}
        for arn, sha in actual.layers:
            if sha == desired.layer_sha256:
                self.refs["layer"] = arn
        self.published: dict[str, str] = {}
        self.versions = {n: f.alias_version for n, f in actual.functions.items()
                         if f.alias_version}
        self.api = (actual.api.kind, actual.api.id) if actual.api else None
        self.release: Release | None = None
        self._handlers: dict[type[st.Step], Callable[[Any], Undo]] = {
            getattr(st, name[len("_do_"):]): getattr(self, name)
            for name in dir(self) if name.startswith("_do_")
        }

    def run(self, steps: list[st.Step]) -> ApplyResult:
        undo: list[st.Step] = []
        done: list[st.Step] = []
        for step in steps:
            try:
                undo += self._handlers[type(step)](step)
            except Exception as exc:
                self._undo(undo)
                if isinstance(exc, DeployError):
                    raise
                msg = exc.message if isinstance(exc, AloftError) else repr(exc)
                fix = exc.fix if isinstance(exc, AloftError) else None
                if self.action == "deploy":
                    raise DeployError(
                        f"deploy failed at `{step.describe()}`: {msg}; undid {len(undo)} "
                        f"resource(s) this run created, the previous version keeps serving",
                        where=getattr(exc, "where", None),
                        fix=fix or "fix the cause and deploy again: it completes what is left",
                    ) from exc
                raise DeployError(
                    f"{self.action} failed at `{step.describe()}`: {msg}",
                    where=getattr(exc, "where", None),
                    fix=fix or f"fix the cause and run `aloft {self.action}` again: it "
                               "continues where this run stopped",
                ) from exc
            done.append(step)
        return ApplyResult(done, self.release, self.api, {**self.versions}, dict(self.refs))

    def _undo(self, undo: list[st.Step]) -> None:
        for step in reversed(undo):
            try:
                self._handlers[type(step)](step)
            except (AloftError, AwsNotFound):
                continue  # best effort: report the original failure, not the cleanup's

    def _ignore_missing(self, service: str, op: str, **params: Any) -> None:
        self.aws.find(service, op, **params)

    # -- deployment bucket, artifacts, role ---------------------------------------------

    def _create_bucket(self, name: str) -> None:
        params: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.aws.call("s3", "create_bucket", **params)

    def _block_public(self, name: str) -> None:
        self.aws.call("s3", "put_public_access_block", Bucket=name,
                      PublicAccessBlockConfiguration={
                          "BlockPublicAcls": True, "IgnorePublicAcls": True,
                          "BlockPublicPolicy": True, "RestrictPublicBuckets": True})

    def _do_CreateDeploymentBucket(self, x: st.CreateDeploymentBucket) -> Undo:
        self._create_bucket(x.bucket)
        undo: Undo = [st.DeleteBucket(x.bucket)]
        self.aws.call("s3", "put_bucket_versioning", Bucket=x.bucket,
                      VersioningConfiguration={"Status": "Enabled"})
        self.aws.call("s3", "put_bucket_encryption", Bucket=x.bucket,
                      ServerSideEncryptionConfiguration={"Rules": [
                          {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        self._block_public(x.bucket)
        self.aws.call("s3", "put_bucket_tagging", Bucket=x.bucket,
                      Tagging={"TagSet": _tags(x.tags)})
        return undo

    def _do_UploadObject(self, x: st.UploadObject) -> Undo:
        self.aws.upload_file(x.bucket, x.key, x.path)
        return []

    def _do_PublishLayer(self, x: st.PublishLayer) -> Undo:
        got = self.aws.call("lambda", "publish_layer_version", LayerName=x.name,
                            Description=f"{LAYER_MARK}{x.sha256}",
                            Content={"S3Bucket": x.bucket, "S3Key": x.key},
                            CompatibleRuntimes=[x.runtime],
                            CompatibleArchitectures=list(x.architectures))
        self.refs["layer"] = str(got["LayerVersionArn"])
        return [st.DeleteLayerVersion(self.refs["layer"])]

    def _do_CreateRole(self, x: st.CreateRole) -> Undo:
        self.aws.call("iam", "create_role", RoleName=x.name,
                      AssumeRolePolicyDocument=ASSUME_ROLE_POLICY, Tags=_tags(x.tags),
                      Description="aloft: the role of a service stage's functions")
        return [st.DeleteRole(x.name, "aloft")]

    def _do_PutRolePolicy(self, x: st.PutRolePolicy) -> Undo:
        self.aws.call("iam", "put_role_policy", RoleName=x.role, PolicyName=x.policy_name,
                      PolicyDocument=x.document)
        return []

    # -- declared resources ------------------------------------------------------------

    def _do_CreateBucket(self, x: st.CreateBucket) -> Undo:
        self._create_bucket(x.spec.name)
        if x.spec.versioning:
            self.aws.call("s3", "put_bucket_versioning", Bucket=x.spec.name,
                          VersioningConfiguration={"Status": "Enabled"})
        if not x.spec.public:
            self._block_public(x.spec.name)
        self.aws.call("s3", "put_bucket_tagging", Bucket=x.spec.name,
                      Tagging={"TagSet": _tags(x.tags)})
        return [st.DeleteBucket(x.spec.name)]

    def _queue_attributes(self, q: s.QueueSpec) -> dict[str, str]:
        attrs = {"VisibilityTimeout": str(q.visibility_timeout),
                 "MessageRetentionPeriod": str(q.retention)}
        if q.dead_letter:
            arn = f"arn:aws:sqs:{self.region}:{self.aws.account.account_id}:{q.dead_letter}"
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": q.max_receives})
        return attrs

    def _do_CreateQueue(self, x: st.CreateQueue) -> Undo:
        attrs = self._queue_attributes(x.spec)
        if x.spec.fifo:
            attrs["FifoQueue"] = "true"
        self.aws.call("sqs", "create_queue", QueueName=x.spec.name, Attributes=attrs,
                      tags=dict(x.tags))
        return [st.DeleteQueue(x.spec.name)]

    def _do_SetQueueAttributes(self, x: st.SetQueueAttributes) -> Undo:
        url = self.aws.call("sqs", "get_queue_url", QueueName=x.spec.name)["QueueUrl"]
        self.aws.call("sqs", "set_queue_attributes", QueueUrl=url,
                      Attributes=self._queue_attributes(x.spec))
        return []

    def _do_CreateTopic(self, x: st.CreateTopic) -> Undo:
        got = self.aws.call("sns", "create_topic", Name=x.spec.name, Tags=_tags(x.tags))
        return [st.DeleteTopic(str(got["TopicArn"]))]

    def _do_CreateTable(self, x: st.CreateTable) -> Undo:
        t = x.spec
        keys = [{"AttributeName": t.hash_key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": t.hash_key, "AttributeType": t.hash_type}]
        if t.range_key:
            keys.append({"AttributeName": t.range_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": t.range_key, "AttributeType": t.range_type})
        params: dict[str, Any] = {"TableName": t.name, "KeySchema": keys,
                                  "AttributeDefinitions": attrs, "BillingMode": "PAY_PER_REQUEST",
                                  "Tags": _tags(x.tags)}
        if t.stream:
            params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": t.stream}
        got = self.aws.call("dynamodb", "create_table", **params)["TableDescription"]
        while got.get("TableStatus", "ACTIVE") != "ACTIVE":
            time.sleep(self.aws.poll_seconds)
            got = self.aws.call("dynamodb", "describe_table", TableName=t.name)["Table"]
        if got.get("LatestStreamArn"):
            self.refs[f"stream:{t.name}"] = str(got["LatestStreamArn"])
        if t.ttl:
            self.aws.call("dynamodb", "update_time_to_live", TableName=t.name,
                          TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl})
        return [st.DeleteTable(t.name)]

    def _do_PutParameter(self, x: st.PutParameter) -> Undo:
        p = x.spec
        params: dict[str, Any] = {"Name": p.name, "Value": p.value or "",
                                  "Type": "SecureString" if p.secure else "String",
                                  "Overwrite": x.overwrite}
        if p.description:
            params["Description"] = p.description
        if not x.overwrite:
            params["Tags"] = _tags(x.tags)
        self.aws.call("ssm", "put_parameter", **params)
        return [] if x.overwrite else [st.DeleteParameter(p.name)]

    def _do_CreateLogGroup(self, x: st.CreateLogGroup) -> Undo:
        self.aws.call("logs", "create_log_group", logGroupName=x.name, tags=dict(x.tags))
        if x.retention:
            self.aws.call("logs", "put_retention_policy", logGroupName=x.name,
                          retentionInDays=x.retention)
        return [st.DeleteLogGroup(x.name)]

    def _do_PutRetention(self, x: st.PutRetention) -> Undo:
        if x.retention:
            self.aws.call("logs", "put_retention_policy", logGroupName=x.name,
                          retentionInDays=x.retention)
        else:
            self.aws.call("logs", "delete_retention_policy", logGroupName=x.name)
        return []

    # -- functions ------------------------------------------------------------------------

    def _config_params(self, c: s.FunctionConfig) -> dict[str, Any]:
        c = fill(c, self.refs)
        return {"Role": c.role, "Handler": c.handler, "Runtime": c.runtime,
                "Description": c.description, "Timeout": c.timeout, "MemorySize": c.memory,
                "Environment": {"Variables": dict(c.environment)}, "Layers": list(c.layers),
                "TracingConfig": {"Mode": c.tracing},
                "VpcConfig": {"SubnetIds": list(c.subnet_ids),
                              "SecurityGroupIds": list(c.security_group_ids)}}

    def _do_CreateFunction(self, x: st.CreateFunction) -> Undo:
        f = x.spec
        self.aws.call("lambda", "create_function", FunctionName=f.physical,
                      Code={"S3Bucket": x.bucket, "S3Key": f.code_key},
                      Architectures=[f.architecture], Publish=False,
                      Tags=dict(x.tags), **self._config_params(f.config))
        self.aws.wait_function_ready(f.physical)
        return [st.DeleteFunction(f.physical)]

    def _do_UpdateFunctionCode(self, x: st.UpdateFunctionCode) -> Undo:
        self.aws.call("lambda", "update_function_code", FunctionName=x.function,
                      S3Bucket=x.bucket, S3Key=x.key, Architectures=[x.architecture])
        self.aws.wait_function_ready(x.function)
        return []

    def _do_UpdateFunctionConfiguration(self, x: st.UpdateFunctionConfiguration) -> Undo:
        self.aws.call("lambda", "update_function_configuration", FunctionName=x.function,
                      **self._config_params(x.config))
        self.aws.wait_function_ready(x.function)
        return []

    def _do_PublishVersion(self, x: st.PublishVersion) -> Undo:
        got = self.aws.call("lambda", "publish_version", FunctionName=x.physical)
        self.published[x.function] = str(got["Version"])
        return []

    def _do_CreateAlias(self, x: st.CreateAlias) -> Undo:
        version = self.published[x.function]
        self.aws.call("lambda", "create_alias", FunctionName=x.physical, Name=x.alias,
                      FunctionVersion=version)
        self.versions[x.function] = version
        return []

    def _do_UpdateAlias(self, x: st.UpdateAlias) -> Undo:
        version = x.version or self.published[x.function]
        self.aws.call("lambda", "update_alias", FunctionName=x.physical, Name=x.alias,
                      FunctionVersion=version)
        self.versions[x.function] = version
        if x.previous:
            return [st.UpdateAlias(x.function, x.physical, x.alias, x.previous)]
        return []

    def _do_PutConcurrency(self, x: st.PutConcurrency) -> Undo:
        if x.reserved is None:
            self.aws.call("lambda", "delete_function_concurrency", FunctionName=x.function)
        else:
            self.aws.call("lambda", "put_function_concurrency", FunctionName=x.function,
                          ReservedConcurrentExecutions=x.reserved)
        return []

    def _do_PutEventInvokeConfig(self, x: st.PutEventInvokeConfig) -> Undo:
        params: dict[str, Any] = {
            "FunctionName": x.function, "Qualifier": x.alias,
            "MaximumRetryAttempts": x.config.retries,
            "MaximumEventAgeInSeconds": x.config.max_event_age}
        if x.config.on_failure:
            params["DestinationConfig"] = {"OnFailure": {"Destination": x.config.on_failure}}
        self.aws.call("lambda", "put_function_event_invoke_config", **params)
        return []

    def _do_PutFunctionUrl(self, x: st.PutFunctionUrl) -> Undo:
        params: dict[str, Any] = {"FunctionName": x.function, "Qualifier": x.alias,
                                  "AuthType": "NONE"}
        if x.cors:
            params["Cors"] = _cors(x.cors, url=True)
        op = "update_function_url_config" if x.exists else "create_function_url_config"
        got = self.aws.call("lambda", op, **params)
        logical = next(n for n, p in self.physical.items() if p == x.function)
        self.refs[f"url:{logical}"] = str(got["FunctionUrl"])
        return [] if x.exists else [st.DeleteFunctionUrl(x.function, x.alias)]

    def _do_DeleteFunctionUrl(self, x: st.DeleteFunctionUrl) -> Undo:
        self._ignore_missing("lambda", "delete_function_url_config", FunctionName=x.function,
                             Qualifier=x.alias)
        return []

    # -- API ---------------------------------------------------------------------------

    def _integration(self, api_id: str, route: s.RouteSpec, uris: dict[str, str],
                     alias_arn: str) -> str:
        key = f"{alias_arn}|{route.payload}"
        if key not in uris:
            got = self.aws.call("apigatewayv2", "create_integration", ApiId=api_id,
                                IntegrationType="AWS_PROXY", IntegrationUri=alias_arn,
                                PayloadFormatVersion=route.payload, TimeoutInMillis=30000)
            uris[key] = str(got["IntegrationId"])
        return uris[key]

    def _add_http_routes(self, api_id: str, routes: tuple[s.RouteSpec, ...],
                         alias_arns: dict[str, str]) -> None:
        uris = {f"{i['IntegrationUri']}|{i.get('PayloadFormatVersion', '2.0')}":
                str(i["IntegrationId"]) for i in
                self.aws.call("apigatewayv2", "get_integrations", ApiId=api_id).get("Items", [])}
        for r in routes:
            integ = self._integration(api_id, r, uris, alias_arns[r.function])
            self.aws.call("apigatewayv2", "create_route", ApiId=api_id, RouteKey=r.key,
                          Target=f"integrations/{integ}")

    def _do_CreateApi(self, x: st.CreateApi) -> Undo:
        spec, aliases = x.spec, self._alias_arns(x.spec, x.stage)
        if spec.kind == "http":
            params: dict[str, Any] = {"Name": spec.name, "ProtocolType": "HTTP",
                                      "Tags": dict(x.tags)}
            if spec.cors:
                params["CorsConfiguration"] = _cors(spec.cors)
            api_id = str(self.aws.call("apigatewayv2", "create_api", **params)["ApiId"])
            undo: Undo = [st.DeleteApi(api_id, "http")]
            self._add_http_routes(api_id, spec.routes, aliases)
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
        acct = self.aws.account
        return {r.function: acct.arn("lambda", f"function:{self.physical[r.function]}:{stage}")
                for r in spec.routes}

    def _do_UpdateHttpApi(self, x: st.UpdateHttpApi) -> Undo:
        if x.spec.cors:
            self.aws.call("apigatewayv2", "update_api", ApiId=x.api_id,
                          CorsConfiguration=_cors(x.spec.cors))
        else:
            self._ignore_missing("apigatewayv2", "delete_cors_configuration", ApiId=x.api_id)
        routes = {r["RouteKey"]: r["RouteId"] for r in
                  self.aws.call("apigatewayv2", "get_routes", ApiId=x.api_id).get("Items", [])}
        for key in x.remove_routes:
            if key in routes:
                self.aws.call("apigatewayv2", "delete_route", ApiId=x.api_id,
                              RouteId=routes[key])
        self._add_http_routes(x.api_id, x.add_routes, self._alias_arns(x.spec, self.stage))
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
                     httpMethod=method, authorizationType="NONE")
            uri = (f"arn:{part}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                   f"{aliases[route.function]}/invocations")
            aws.call("apigateway", "put_integration", restApiId=api_id, resourceId=rid,
                     httpMethod=method, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
        aws.call("apigateway", "create_deployment", restApiId=api_id, stageName=stage)

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

    # -- permissions and triggers ---------------------------------------------------------

    def _do_AddPermission(self, x: st.AddPermission) -> Undo:
        p = fill(x.permission, self.refs)
        params: dict[str, Any] = {"FunctionName": x.physical, "Qualifier": x.alias,
                                  "StatementId": p.sid, "Action": p.action,
                                  "Principal": p.principal}
        if p.source_arn:
            params["SourceArn"] = p.source_arn
        if p.action == "lambda:InvokeFunctionUrl":
            params["FunctionUrlAuthType"] = "NONE"
        self.aws.call("lambda", "add_permission", **params)
        return [st.RemovePermission(p.sid, x.physical, x.alias)]

    def _do_RemovePermission(self, x: st.RemovePermission) -> Undo:
        self._ignore_missing("lambda", "remove_permission", FunctionName=x.physical,
                             Qualifier=x.alias, StatementId=x.sid)
        return []

    def _do_PutRule(self, x: st.PutRule) -> Undo:
        r = x.spec
        params: dict[str, Any] = {"Name": r.name, "ScheduleExpression": r.expression,
                                  "State": "ENABLED" if r.enabled else "DISABLED",
                                  "Description": r.description}
        if not x.exists:
            params["Tags"] = _tags(x.tags)
        self.aws.call("events", "put_rule", **params)
        target: dict[str, Any] = {"Id": "aloft", "Arn": x.target_arn}
        if r.input is not None:
            target["Input"] = r.input
        self.aws.call("events", "put_targets", Rule=r.name, Targets=[target])
        return [] if x.exists else [st.DeleteRule(r.name)]

    def _do_DeleteRule(self, x: st.DeleteRule) -> Undo:
        targets = self.aws.find("events", "list_targets_by_rule", Rule=x.name)
        if targets is None:
            return []
        ids = [t["Id"] for t in targets.get("Targets", [])]
        if ids:
            self.aws.call("events", "remove_targets", Rule=x.name, Ids=ids)
        self._ignore_missing("events", "delete_rule", Name=x.name)
        return []

    def _mapping_params(self, m: s.MappingSpec) -> dict[str, Any]:
        params: dict[str, Any] = {"BatchSize": m.batch_size, "Enabled": m.enabled,
                                  "FunctionResponseTypes":
                                      ["ReportBatchItemFailures"] if m.partial_failures else []}
        if m.window:
            params["MaximumBatchingWindowInSeconds"] = m.window
        return params

    def _do_CreateEventSourceMapping(self, x: st.CreateEventSourceMapping) -> Undo:
        m = fill(x.spec, self.refs)
        params = self._mapping_params(m)
        if m.starting_position:
            params["StartingPosition"] = m.starting_position
        got = self.aws.call("lambda", "create_event_source_mapping", EventSourceArn=m.source_arn,
                            FunctionName=x.alias_arn, **params)
        return [st.DeleteEventSourceMapping(str(got["UUID"]))]

    def _do_UpdateEventSourceMapping(self, x: st.UpdateEventSourceMapping) -> Undo:
        self.aws.call("lambda", "update_event_source_mapping", UUID=x.uuid,
                      **self._mapping_params(x.spec))
        return []

    def _do_DeleteEventSourceMapping(self, x: st.DeleteEventSourceMapping) -> Undo:
        self._ignore_missing("lambda", "delete_event_source_mapping", UUID=x.uuid)
        return []

    def _do_Subscribe(self, x: st.Subscribe) -> Undo:
        attrs = {"FilterPolicy": x.spec.filter_policy} if x.spec.filter_policy else {}
        got = self.aws.call("sns", "subscribe", TopicArn=x.spec.topic_arn, Protocol="lambda",
                            Endpoint=x.alias_arn, Attributes=attrs, ReturnSubscriptionArn=True)
        return [st.Unsubscribe(str(got["SubscriptionArn"]))]

    def _do_SetSubscriptionFilter(self, x: st.SetSubscriptionFilter) -> Undo:
        self.aws.call("sns", "set_subscription_attributes", SubscriptionArn=x.arn,
                      AttributeName="FilterPolicy", AttributeValue=x.filter_policy or "{}")
        return []

    def _do_Unsubscribe(self, x: st.Unsubscribe) -> Undo:
        self._ignore_missing("sns", "unsubscribe", SubscriptionArn=x.arn)
        return []

    def _do_PutBucketNotifications(self, x: st.PutBucketNotifications) -> Undo:
        conf = self.aws.find("s3", "get_bucket_notification_configuration", Bucket=x.bucket)
        if conf is None:
            return []
        conf.pop("ResponseMetadata", None)
        ours = [c for c in conf.get("LambdaFunctionConfigurations", [])
                if not str(c.get("Id", "")).startswith(f"aloft-{self.stage_prefix}")]
        for i, (n, arn) in enumerate(x.configs):
            item: dict[str, Any] = {"Id": f"aloft-{self.stage_prefix}-{n.function}-{i}",
                                    "LambdaFunctionArn": arn, "Events": list(n.events)}
            rules = [{"Name": k, "Value": v} for k, v in (("prefix", n.prefix),
                                                          ("suffix", n.suffix)) if v]
            if rules:
                item["Filter"] = {"Key": {"FilterRules": rules}}
            ours.append(item)
        conf["LambdaFunctionConfigurations"] = ours
        self.aws.call("s3", "put_bucket_notification_configuration", Bucket=x.bucket,
                      NotificationConfiguration=conf)
        return []

    # -- deletions ------------------------------------------------------------------------

    def _do_DeleteFunction(self, x: st.DeleteFunction) -> Undo:
        self._ignore_missing("lambda", "delete_function", FunctionName=x.function)
        return []

    def _do_DeleteLogGroup(self, x: st.DeleteLogGroup) -> Undo:
        self._ignore_missing("logs", "delete_log_group", logGroupName=x.name)
        return []

    def _do_DeleteRole(self, x: st.DeleteRole) -> Undo:
        self._ignore_missing("iam", "delete_role_policy", RoleName=x.name,
                             PolicyName=x.policy_name)
        self._ignore_missing("iam", "delete_role", RoleName=x.name)
        return []

    def _do_DeleteLayerVersion(self, x: st.DeleteLayerVersion) -> Undo:
        parts = x.arn.split(":")
        self._ignore_missing("lambda", "delete_layer_version", LayerName=parts[6],
                             VersionNumber=int(parts[7]))
        return []

    def _empty(self, bucket: str, prefix: str = "") -> None:
        for page_key in ("Versions", "DeleteMarkers"):
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in
                    self.aws.pages("s3", "list_object_versions", page_key, Bucket=bucket,
                                   Prefix=prefix)]
            for i in range(0, len(keys), 1000):
                self.aws.call("s3", "delete_objects", Bucket=bucket,
                              Delete={"Objects": keys[i:i + 1000], "Quiet": True})

    def _do_DeleteBucket(self, x: st.DeleteBucket) -> Undo:
        if self.aws.find("s3", "head_bucket", Bucket=x.bucket) is None:
            return []
        self._empty(x.bucket)
        self._ignore_missing("s3", "delete_bucket", Bucket=x.bucket)
        return []

    def _do_DeleteObjects(self, x: st.DeleteObjects) -> Undo:
        self._empty(x.bucket, x.prefix)
        return []

    def _do_DeleteQueue(self, x: st.DeleteQueue) -> Undo:
        url = self.aws.find("sqs", "get_queue_url", QueueName=x.name)
        if url is not None:
            self._ignore_missing("sqs", "delete_queue", QueueUrl=url["QueueUrl"])
        return []

    def _do_DeleteTopic(self, x: st.DeleteTopic) -> Undo:
        self._ignore_missing("sns", "delete_topic", TopicArn=x.arn)
        return []

    def _do_DeleteTable(self, x: st.DeleteTable) -> Undo:
        self._ignore_missing("dynamodb", "delete_table", TableName=x.name)
        return []

    def _do_DeleteParameter(self, x: st.DeleteParameter) -> Undo:
        self._ignore_missing("ssm", "delete_parameter", Name=x.name)
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

    def _do_WriteState(self, x: st.WriteState) -> Undo:
        record = StateRecord.from_json(x.record_json)
        record = dataclasses.replace(record, api=self.api)
        if x.release:
            last = record.current
            self.release = Release((last.number if last else 0) + 1, dict(self.versions),
                                   self.code_sha256, time.time())
            record = dataclasses.replace(record, releases=(*record.releases, self.release))
        else:
            self.release = record.current
        self.aws.call("s3", "put_object", Bucket=x.bucket, Key=x.key,
                      Body=record.to_json().encode(), ContentType="application/json")
        return []
