"""The stage as a CloudFormation template (`aloft template STAGE`), for teams that deploy
through CloudFormation. It is built from the same desired state as a direct deploy, with the
account, region and partition as pseudo parameters and the artifact's S3 locations as template
parameters. What CloudFormation cannot express is listed under Metadata.aloft.unsupported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aloft.aws import albs, cdn
from aloft.aws import specs as s
from aloft.aws import template_auth as auth
from aloft.aws.desired import Built, desired
from aloft.aws.logical_ids import logical_id as _lid
from aloft.aws.names import Account, Names
from aloft.config.models import Service
from aloft.stage import late as lt
from aloft.stage.names import stage_prefix
from aloft.stage.resources import public_read_policy

_PSEUDO = Account("${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}")
# The static bucket's secret Referer: the unique part of the stack id (never shown to clients).
_REFERER = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


_TOKEN = re.compile(r"\$\{([^}]*)\}")
_LATE = {lt.API: "${Api}", lt.API_URL: "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
         lt.API_ROOT: "${Api.RootResourceId}", lt.ROLE_ID: "${Role.RoleId}",
         lt.DEPLOYMENT_BUCKET: "${ArtifactBucket}"}


def _tags(d: s.Desired) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in d.tags]


@dataclass(frozen=True)
class _Placeholder:
    path: Path = Path()
    size: int = 0
    sha256: str = "template"


@dataclass(frozen=True)
class _TemplateBuild:
    code: _Placeholder
    layer: _Placeholder | None
    tasks: bool = True


def _cors(c: s.CorsSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowOrigins": list(c.origins), "AllowMethods": list(c.methods),
                           "AllowHeaders": list(c.headers), "AllowCredentials": c.credentials,
                           "MaxAge": c.max_age}
    if c.expose_headers:
        out["ExposeHeaders"] = list(c.expose_headers)
    return out


class _Template:
    def __init__(self, d: s.Desired, has_layer: bool) -> None:
        self.d = d
        self.resources: dict[str, Any] = {}
        self.unsupported: list[str] = []
        self.outputs: dict[str, Any] = {}
        self.static_name: str | None = None  # `static.bucket`; else CloudFormation names it
        # the code zip's SHA-256 as Lambda reports it (base64), when the template is built
        # from the artifact (else the version cannot name the code it publishes)
        self.code_sha256: str | None = None
        self.params: dict[str, Any] = {
            "ArtifactBucket": {"Type": "String", "Description": "Bucket holding the artifacts"},
            "CodeKey": {"Type": "String", "Description": "S3 key of the code zip"},
        }
        if has_layer:
            self.params["LayerKey"] = {"Type": "String",
                                       "Description": "S3 key of the dependency layer zip"}
        self.alias = {f.name: _lid(f.name, "Alias") for f in d.functions}
        self.tables = {t.name: _lid(t.key, "Table") for t in d.resources.tables}

    def add(self, lid: str, kind: str, props: dict[str, Any], **extra: Any) -> str:
        self.resources[lid] = {"Type": kind, "Properties": props, **extra}
        return lid

    def cfn(self, value: Any) -> Any:
        """A desired value in CloudFormation's terms, through lists and dicts: the stage
        model's placeholders (aloft.stage.late) and the stack's pseudo parameters become
        Ref, GetAtt, ImportValue or Fn::Sub (the config's `${aws:accountId}`, read at deploy
        time, is the stack's AWS::AccountId)."""
        if isinstance(value, list):
            return [self.cfn(v) for v in value]
        if isinstance(value, dict):
            return {k: self.cfn(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        value = value.replace("${aws:accountId}", "${AWS::AccountId}")
        exact = self._exact(value)
        if exact is not None:
            return exact
        variables: dict[str, Any] = {}
        substituted = [False]

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            kind, arg = lt.split(name)
            if name.startswith("AWS::") or kind in _LATE:
                substituted[0] = True
                return m.group(0) if name.startswith("AWS::") else _LATE[kind]
            if kind == lt.STREAM and arg in self.tables:
                substituted[0] = True
                return f"${{{self.tables[arg]}.StreamArn}}"
            if kind == lt.EXPORT:
                substituted[0] = True
                variables[f"Export{len(variables)}"] = {"Fn::ImportValue": arg}
                return f"${{Export{len(variables) - 1}}}"
            return "${!" + name + "}"  # text, not a reference

        text = _TOKEN.sub(one, value)
        if not substituted[0]:
            return value
        return {"Fn::Sub": [text, variables] if variables else text}

    def _exact(self, value: str) -> Any:
        """A value that is one placeholder: the plain Ref, GetAtt or ImportValue."""
        if value == s.ref("layer"):
            return {"Ref": "DependencyLayer"}
        refs = lt.refs(value)
        if len(refs) != 1 or value != "${" + refs[0] + "}":
            return None
        kind, arg = lt.split(refs[0])
        if kind == lt.STREAM and arg in self.tables:
            return {"Fn::GetAtt": [self.tables[arg], "StreamArn"]}
        if kind == lt.EXPORT:
            return {"Fn::ImportValue": arg}
        if kind == lt.API:
            return {"Ref": "Api"}
        if kind == lt.DEPLOYMENT_BUCKET:
            return {"Ref": "ArtifactBucket"}
        return None

    def build(self) -> dict[str, Any]:
        d = self.d
        if "LayerKey" in self.params:
            self.add("DependencyLayer", "AWS::Lambda::LayerVersion", {
                "LayerName": d.layer_name,
                "Content": {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "LayerKey"}},
                "CompatibleRuntimes": sorted({f.config.runtime for f in d.functions}),
                "CompatibleArchitectures": sorted({f.architecture for f in d.functions})})
        roles: dict[str, Any] = {f.name: f.config.role for f in d.functions}
        per_function = any(r.arn != d.role_arn for r in d.roles)
        for r in d.roles:
            lid = "Role" if not per_function else _lid(
                next(f.name for f in d.functions if f.config.role == r.arn), "Role")
            self.add(lid, "AWS::IAM::Role", {
                "RoleName": r.name,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "aloft",
                              "PolicyDocument": self.cfn(_key_by_alias(
                                  json.loads(r.policy), d))}],
                "Tags": _tags(d)})
            roles.update({f.name: {"Fn::GetAtt": [lid, "Arn"]} for f in d.functions
                          if f.config.role == r.arn})
        self._resources()
        for f in d.functions:
            self._function(f, roles[f.name])
        self._static()
        self._api()
        self._triggers()
        self._cdn()
        out: dict[str, Any] = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"aloft: {d.service} stage {d.stage}",
            "Parameters": self.params,
            "Resources": self.resources,
        }
        if self.unsupported:
            out["Metadata"] = {"aloft": {"unsupported": self.unsupported}}
        url = self._url()
        if url is not None:
            self.outputs = {"Url": {"Value": url}, **self.outputs}
        if self.outputs:
            out["Outputs"] = self.outputs
        return out

    def _resources(self) -> None:
        d, r = self.d, self.d.resources
        notes = dict(d.notifications)
        for b in r.buckets:
            props: dict[str, Any] = {"BucketName": b.name, "Tags": _tags(d)}
            if b.versioning:
                props["VersioningConfiguration"] = {"Status": "Enabled"}
            props["PublicAccessBlockConfiguration"] = {
                "BlockPublicAcls": True, "BlockPublicPolicy": not b.public,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": not b.public}
            depends = []
            if b.name in notes:
                confs = []
                for n in notes.pop(b.name):
                    for event in n.events:
                        conf: dict[str, Any] = {"Event": event,
                                                "Function": {"Ref": self.alias[n.function]}}
                        rules = [{"Name": k, "Value": v} for k, v in
                                 (("prefix", n.prefix), ("suffix", n.suffix)) if v]
                        if rules:
                            conf["Filter"] = {"S3Key": {"Rules": rules}}
                        confs.append(conf)
                props["NotificationConfiguration"] = {"LambdaConfigurations": confs}
                depends = [_lid(p.function, p.sid, "Permission") for p in d.permissions
                           if p.principal == "s3.amazonaws.com"
                           and p.source_arn and p.source_arn.endswith(":::" + b.name)]
            extra = {"DependsOn": depends} if depends else {}
            bid = self.add(_lid(b.key, "Bucket"), "AWS::S3::Bucket", props, **extra)
            if b.public:  # the local cloud's public-read policy
                policy = json.loads(public_read_policy(
                    f"arn:{d.partition}:s3:::{b.name}"))
                policy["Statement"][0]["Resource"] = {
                    "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::${{{bid}}}/*"}
                self.add(_lid(b.key, "BucketPolicy"), "AWS::S3::BucketPolicy",
                         {"Bucket": {"Ref": bid}, "PolicyDocument": policy})
        for bucket in notes:
            self.unsupported.append(f"notifications of bucket {bucket} (not declared by this "
                                    "stage): configure them with `aloft deploy`")
        queue_ids = {q.name: _lid(q.key, "Queue") for q in r.queues}
        for q in r.queues:
            props = {"QueueName": q.name, "VisibilityTimeout": q.visibility_timeout,
                     "MessageRetentionPeriod": q.retention, "Tags": _tags(d)}
            if q.fifo:
                props["FifoQueue"] = True
            if q.dead_letter:
                props["RedrivePolicy"] = {
                    "deadLetterTargetArn": {"Fn::GetAtt": [queue_ids[q.dead_letter], "Arn"]},
                    "maxReceiveCount": q.max_receives}
            self.add(queue_ids[q.name], "AWS::SQS::Queue", props)
        for t in r.topics:
            self.add(_lid(t.key, "Topic"), "AWS::SNS::Topic",
                     {"TopicName": t.name, "Tags": _tags(d)})
        for tb in r.tables:
            keys = [{"AttributeName": tb.hash_key, "KeyType": "HASH"}]
            attrs = [{"AttributeName": tb.hash_key, "AttributeType": tb.hash_type}]
            if tb.range_key:
                keys.append({"AttributeName": tb.range_key, "KeyType": "RANGE"})
                attrs.append({"AttributeName": tb.range_key, "AttributeType": tb.range_type})
            props = {"TableName": tb.name, "KeySchema": keys, "AttributeDefinitions": attrs,
                     "BillingMode": "PAY_PER_REQUEST", "Tags": _tags(d)}
            if tb.stream:
                props["StreamSpecification"] = {"StreamViewType": tb.stream}
            if tb.ttl:
                props["TimeToLiveSpecification"] = {"AttributeName": tb.ttl, "Enabled": True}
            self.add(self.tables[tb.name], "AWS::DynamoDB::Table", props,
                     DeletionPolicy="Delete", UpdateReplacePolicy="Delete")
        for p in r.parameters:
            if p.value is None:
                continue
            if p.secure:
                self.unsupported.append(f"SecureString parameter {p.name}: CloudFormation "
                                        "cannot create one; use `aws ssm put-parameter`")
                continue
            props = {"Name": p.name, "Type": "String", "Value": p.value}
            if p.description:
                props["Description"] = p.description
            self.add(_lid(p.key, "Parameter"), "AWS::SSM::Parameter", props)

    def _function(self, f: s.FunctionSpec, role: Any) -> None:
        d, c = self.d, f.config
        fid = _lid(f.name, "Function")
        log = self.add(_lid(f.name, "LogGroup"), "AWS::Logs::LogGroup",
                       {"LogGroupName": f"/aws/lambda/{f.physical}",
                        **({"RetentionInDays": r} if (r := dict(d.log_groups).get(
                            f"/aws/lambda/{f.physical}")) else {})},
                       DeletionPolicy="Delete", UpdateReplacePolicy="Delete")
        props: dict[str, Any] = {
            "FunctionName": f.physical, "Runtime": c.runtime, "Handler": c.handler,
            "Role": role if isinstance(role, dict) else self.cfn(role),
            "Code": {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "CodeKey"}},
            "MemorySize": c.memory, "Timeout": c.timeout, "Description": c.description,
            "Architectures": [f.architecture],
            "Environment": {"Variables": {k: self.cfn(v) for k, v in c.environment}},
            "TracingConfig": {"Mode": c.tracing}, "Tags": _tags(d),
            "EphemeralStorage": {"Size": c.ephemeral_storage},
            "LoggingConfig": s.logging_config(c),
        }
        if c.layers:
            props["Layers"] = [self.cfn(x) for x in c.layers]
        if c.dead_letter:
            props["DeadLetterConfig"] = {"TargetArn": self.cfn(c.dead_letter)}
        if c.subnet_ids:
            props["VpcConfig"] = {"SubnetIds": list(c.subnet_ids),
                                  "SecurityGroupIds": list(c.security_group_ids)}
        if f.concurrency is not None:
            props["ReservedConcurrentExecutions"] = f.concurrency
        if c.snap_start:
            props["SnapStart"] = s.snap_start(c)
        self.add(fid, "AWS::Lambda::Function", props, DependsOn=[log])
        vid = self._version(f, fid, props)
        alias: dict[str, Any] = {"FunctionName": {"Ref": fid}, "Name": d.stage,
                                 "FunctionVersion": {"Fn::GetAtt": [vid, "Version"]}}
        if f.provisioned:
            alias["ProvisionedConcurrencyConfig"] = {
                "ProvisionedConcurrentExecutions": f.provisioned}
        self.add(self.alias[f.name], "AWS::Lambda::Alias", alias)
        a = f.async_config
        inv: dict[str, Any] = {"FunctionName": {"Ref": fid}, "Qualifier": d.stage,
                               "MaximumRetryAttempts": a.retries,
                               "MaximumEventAgeInSeconds": a.max_event_age}
        destinations = {key: {"Destination": self.cfn(arn)} for key, arn in (
            ("OnFailure", a.on_failure), ("OnSuccess", a.on_success)) if arn}
        if destinations:
            inv["DestinationConfig"] = destinations
        deps = [self.alias[f.name]] + [q for q in self.resources
                                       if self.resources[q]["Type"] == "AWS::SQS::Queue"]
        self.add(_lid(f.name, "InvokeConfig"), "AWS::Lambda::EventInvokeConfig", inv,
                 DependsOn=deps)
        if f.url is not None:
            url: dict[str, Any] = {"TargetFunctionArn": {"Ref": self.alias[f.name]},
                                   "AuthType": "NONE"}
            if isinstance(f.url, s.CorsSpec):
                cors = _cors(f.url)
                cors["AllowMethods"] = cors["AllowMethods"][:6]
                url["Cors"] = cors
            self.add(_lid(f.name, "Url"), "AWS::Lambda::Url", url)

    def _version(self, f: s.FunctionSpec, fid: str, props: dict[str, Any]) -> str:
        """The function's published version. A Version resource is immutable, so its logical
        id carries a hash of the code and the function's settings (as the Serverless Framework
        does): new code or settings are a new resource, which CloudFormation creates after
        updating the function, and so a new version the alias moves to. The old resources are
        retained: `rollback` and the alias's history keep their versions. `CodeSha256` makes
        CloudFormation refuse to publish code other than the template's."""
        settings = json.dumps({k: v for k, v in props.items() if k != "Code"}, sort_keys=True)
        digest = hashlib.sha256(f"{f.code_sha256}\n{settings}".encode()).hexdigest()[:12]
        version: dict[str, Any] = {"FunctionName": {"Ref": fid}}
        if self.code_sha256 is not None:
            version["CodeSha256"] = self.code_sha256
        return self.add(_lid(f.name, "Version", digest), "AWS::Lambda::Version", version,
                        DeletionPolicy="Retain", UpdateReplacePolicy="Retain")

    def _api(self) -> None:
        api = self.d.api
        perms = [p for p in self.d.permissions]
        for p in perms:
            props: dict[str, Any] = {"FunctionName": {"Ref": self.alias[p.function]},
                                     "Action": p.action, "Principal": p.principal}
            if p.source_arn:
                source = p.source_arn.replace(s.ref("api"), "${Api}")
                props["SourceArn"] = {"Fn::Sub": source} if "${" in source else source
            if p.action == "lambda:InvokeFunctionUrl":
                props["FunctionUrlAuthType"] = "NONE"
            self.add(_lid(p.function, p.sid, "Permission"), "AWS::Lambda::Permission", props)
        if api is None:
            return
        if api.kind == "http":
            props = {"Name": api.name, "ProtocolType": "HTTP",
                     "Tags": dict(self.d.tags)}
            if api.cors:
                props["CorsConfiguration"] = _cors(api.cors)
            self.add("Api", "AWS::ApiGatewayV2::Api", props)
            authorizers = auth.authorizers(self, api)
            integ: dict[tuple[str, str], str] = {}
            for r in api.routes:
                key = (r.function, r.payload)
                if r.function == s.STATIC_ROUTE:
                    integ[key] = self._static_integration()
                if key not in integ:
                    integ[key] = self.add(
                        _lid(r.function, r.payload, "Integration"),
                        "AWS::ApiGatewayV2::Integration", {
                            "ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
                            "IntegrationUri": {"Ref": self.alias[r.function]},
                            "PayloadFormatVersion": r.payload})
                self.add(_lid("Route", r.key if r.key != "$default" else "Default"),
                         "AWS::ApiGatewayV2::Route", {
                             "ApiId": {"Ref": "Api"}, "RouteKey": r.key,
                             "Target": {"Fn::Sub": f"integrations/${{{integ[key]}}}"},
                             **auth.http_route(api, r, authorizers)})
            self.add("ApiStage", "AWS::ApiGatewayV2::Stage",
                     {"ApiId": {"Ref": "Api"}, "StageName": "$default", "AutoDeploy": True})
            return
        self.add("Api", "AWS::ApiGateway::RestApi", {
            "Name": api.name, "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "BinaryMediaTypes": ["*/*"]})
        authorizers = auth.authorizers(self, api)
        paths: dict[str, Any] = {"/": {"Fn::GetAtt": ["Api", "RootResourceId"]}}
        methods = []
        for r in api.routes:
            method, path = r.key.split(" ", 1)
            parent = "/"
            for seg in [p for p in path.split("/") if p]:
                child = parent.rstrip("/") + "/" + seg
                if child not in paths:
                    rid = self.add(_lid("Resource", child.replace("+", "Plus")),
                                   "AWS::ApiGateway::Resource", {
                                       "RestApiId": {"Ref": "Api"}, "ParentId": paths[parent],
                                       "PathPart": seg})
                    paths[child] = {"Ref": rid}
                parent = child
            uri = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                              f"2015-03-31/functions/${{{self.alias[r.function]}}}/invocations"}
            methods.append(self.add(_lid("Method", method, path.replace("+", "Plus")),
                                    "AWS::ApiGateway::Method", {
                                        "RestApiId": {"Ref": "Api"}, "ResourceId": paths[path],
                                        "HttpMethod": method,
                                        **auth.rest_method(r, authorizers),
                                        "Integration": {"Type": "AWS_PROXY",
                                                        "IntegrationHttpMethod": "POST",
                                                        "Uri": uri}}))
        self.add("ApiDeployment", "AWS::ApiGateway::Deployment",
                 {"RestApiId": {"Ref": "Api"}}, DependsOn=methods)
        self.add("ApiStage", "AWS::ApiGateway::Stage", {
            "RestApiId": {"Ref": "Api"}, "StageName": self.d.stage,
            "DeploymentId": {"Ref": "ApiDeployment"},
            **({"TracingEnabled": True} if api.tracing else {})})
        auth.usage_plan(self, api)

    def _triggers(self) -> None:
        d = self.d
        for r in d.rules:
            target: dict[str, Any] = {"Id": "aloft", "Arn": {"Ref": self.alias[r.function]}}
            if r.input is not None:
                target["Input"] = r.input
            elif r.input_path is not None:
                target["InputPath"] = r.input_path
            rule: dict[str, Any] = {"Name": r.name,
                                    "State": "ENABLED" if r.enabled else "DISABLED",
                                    "Description": r.description, "Targets": [target]}
            if r.pattern is not None:
                rule["EventPattern"] = json.loads(r.pattern)
            else:
                rule["ScheduleExpression"] = r.expression
            if r.bus:
                rule["EventBusName"] = self.cfn(r.bus)
            self.add(_lid(r.name.removeprefix(stage_prefix(d.service, d.stage) + "-"), "Rule"),
                     "AWS::Events::Rule", rule)
        for i, m in enumerate(d.mappings):
            props: dict[str, Any] = {
                "EventSourceArn": self.cfn(m.source_arn),
                "FunctionName": {"Ref": self.alias[m.function]}, "BatchSize": m.batch_size,
                "Enabled": m.enabled}
            if m.window:
                props["MaximumBatchingWindowInSeconds"] = m.window
            if m.partial_failures:
                props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            if m.starting_position:
                props["StartingPosition"] = m.starting_position
            deps = [self.resources_of("AWS::SQS::Queue"), self.resources_of("AWS::IAM::Role")]
            self.add(_lid(m.function, "Mapping", str(i)), "AWS::Lambda::EventSourceMapping",
                     props, DependsOn=[x for group in deps for x in group])
        for i, sub in enumerate(d.subscriptions):
            props = {"Protocol": "lambda", "Endpoint": {"Ref": self.alias[sub.function]},
                     "TopicArn": self.cfn(sub.topic_arn)}
            if sub.filter_policy:
                props["FilterPolicy"] = json.loads(sub.filter_policy)
            topics = self.resources_of("AWS::SNS::Topic")
            self.add(_lid(sub.function, "Subscription", str(i)), "AWS::SNS::Subscription",
                     props, **({"DependsOn": topics} if topics else {}))
        for x in d.albs:
            sid = albs.permission(x, "").sid  # the function may be invoked first (_api)
            tag = x.name.removeprefix("aloft-")[:8]  # listener and priority: one per event
            group = self.add(_lid(x.function, "TargetGroup", tag),
                             "AWS::ElasticLoadBalancingV2::TargetGroup", {
                "Name": x.name, "TargetType": "lambda",
                "Targets": [{"Id": {"Ref": self.alias[x.function]}}],
                "TargetGroupAttributes": [{"Key": "lambda.multi_value_headers.enabled",
                                           "Value": str(x.multi_value_headers).lower()}],
                "Tags": _tags(d)}, DependsOn=[_lid(x.function, sid, "Permission")])
            self.add(_lid(x.function, "ListenerRule", tag),
                     "AWS::ElasticLoadBalancingV2::ListenerRule", {
                "ListenerArn": self.cfn(x.listener), "Priority": x.priority,
                "Conditions": json.loads(x.conditions),
                "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": group}}]})

    def _static(self) -> None:
        """The static bucket, readable only with the secret Referer the API's integration
        sends (here the stack id's unique part; the files are uploaded outside CloudFormation)."""
        sp = self.d.static
        if sp is None:
            return
        props: dict[str, Any] = {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": False, "RestrictPublicBuckets": False},
            "Tags": _tags(self.d)}
        if self.static_name:
            props["BucketName"] = self.static_name
        self.add("StaticBucket", "AWS::S3::Bucket", props)
        statements: list[dict[str, Any]] = [{
            "Sid": "AloftStaticReadThroughApi", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${StaticBucket}/*"},
            "Condition": {"StringEquals": {"aws:Referer": _REFERER}}}]
        if self.d.cdn is not None:  # the distribution reads it through its access control
            statements.append({
                "Sid": "AloftStaticReadThroughCdn", "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${StaticBucket}/*"},
                "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": (
                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                    "distribution/${Cdn}")}}}})
        self.add("StaticBucketPolicy", "AWS::S3::BucketPolicy", {
            "Bucket": {"Ref": "StaticBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}})
        self.outputs["StaticBucket"] = {"Value": {"Ref": "StaticBucket"}}
        self.unsupported.append(
            f"static files: upload {len(sp.files)} file(s) to the StaticBucket output with "
            f"`aws s3 sync <static dir> s3://<bucket>/{sp.prefix} --cache-control "
            f"'{sp.cache_control}' --delete`")

    def _static_integration(self) -> str:
        name = self.static_name or ""
        prefix = self.d.static.prefix if self.d.static else ""
        uri = (f"https://s3.${{AWS::Region}}.${{AWS::URLSuffix}}/${{StaticBucket}}/{prefix}{{proxy}}"
               if "." in name else f"https://${{StaticBucket.RegionalDomainName}}/{prefix}{{proxy}}")
        return self.add("StaticIntegration", "AWS::ApiGatewayV2::Integration", {
            "ApiId": {"Ref": "Api"}, "IntegrationType": "HTTP_PROXY",
            "IntegrationMethod": "ANY", "IntegrationUri": {"Fn::Sub": uri},
            "PayloadFormatVersion": "1.0",
            "RequestParameters": {"overwrite:header.referer": _REFERER},
            "ResponseParameters": {"403": {"ResponseParameters": [
                {"Destination": "overwrite:statuscode", "Source": "404"}]}}})

    def _cdn(self) -> None:
        """`cdn: true`: the distribution in front of the API and the static bucket (aloft
        certify attaches a domain after the stack exists)."""
        spec = self.d.cdn
        if spec is None:
            return
        oac = None
        if spec.static_bucket:
            self.add("CdnAccessControl", "AWS::CloudFront::OriginAccessControl", {
                "OriginAccessControlConfig": {
                    k: v for k, v in cdn.oac_config(spec.reference).items()
                    if k != "Description"}})
            oac = "CDN_ACCESS_CONTROL"
        config = cdn.template_config(cdn.distribution_config(spec, oac))
        for origin in config["Origins"]:
            if origin["Id"] == cdn.API_ORIGIN:
                origin["DomainName"] = {
                    "Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
            elif origin["Id"] == cdn.STATIC_ORIGIN:
                origin["DomainName"] = {"Fn::GetAtt": ["StaticBucket", "RegionalDomainName"]}
                origin["OriginAccessControlId"] = {"Fn::GetAtt": ["CdnAccessControl", "Id"]}
        self.add("Cdn", "AWS::CloudFront::Distribution", {
            "DistributionConfig": config, "Tags": _tags(self.d)})
        self.outputs["CdnUrl"] = {"Value": {"Fn::Sub": "https://${Cdn.DomainName}/"}}

    def resources_of(self, *kinds: str) -> list[str]:
        return [k for k, v in self.resources.items() if v["Type"] in kinds]

    def _url(self) -> Any:
        api = self.d.api
        if api is not None:
            host = "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
            path = "/" if api.kind == "http" else f"/{self.d.stage}/"
            return {"Fn::Sub": f"https://{host}{path}"}
        for f in self.d.functions:
            if f.url is not None:
                return {"Fn::GetAtt": [_lid(f.name, "Url"), "FunctionUrl"]}
        return None


def _key_by_alias(policy: dict[str, Any], d: s.Desired) -> dict[str, Any]:
    """The stage key's ARN is not known to a template (`aloft secret set` makes the key):
    its `kms:Decrypt` names the account's keys with the stage key's alias as a condition."""
    for st in policy["Statement"]:
        if st["Resource"] == [lt.late(lt.SECRET_KEY)] and d.secret_key is not None:
            st["Resource"] = ["arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"]
            st.setdefault("Condition", {})["ForAnyValue:StringEquals"] = {
                "kms:ResourceAliases": d.secret_key}
    return policy


def template(service: Service, built: Built | None = None) -> dict[str, Any]:
    """The CloudFormation template (as a dict) equivalent to deploying `service`."""
    has_layer = True if built is None else built.layer is not None
    code = _Placeholder() if built is None else _Placeholder(sha256=built.code.sha256)
    stand_in = _TemplateBuild(code, _Placeholder() if has_layer else None,
                              True if built is None else built.tasks)
    names = Names.of(service, _PSEUDO)
    d = desired(service, stand_in, names)
    tpl = _Template(d, has_layer)
    tpl.static_name = service.static.bucket if service.static else None
    if built is not None:
        tpl.code_sha256 = base64.b64encode(bytes.fromhex(built.code.sha256)).decode()
    return tpl.build()


def template_json(service: Service, built: Built | None = None) -> str:
    return json.dumps(template(service, built), indent=2, sort_keys=False) + "\n"
