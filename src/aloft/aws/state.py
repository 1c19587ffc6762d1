"""The actual state of a stage, read from AWS with describe/list calls and the state object.

`ActualState` uses the very records of `specs`, so that planning compares like with like; the
in-memory `ActualState()` is an empty account, which is what plan tests start from.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aloft.aws import albs
from aloft.aws import specs as s
from aloft.aws.client import AwsClient
from aloft.aws.names import TAG_SERVICE, TAG_STAGE, Names
from aloft.aws.record import StateRecord
from aloft.aws.state_auth import (
    ActualUsagePlan,
    http_authorizers,
    http_route_auth,
    rest_authorizers,
    rest_method_auth,
    usage_plan,
)
from aloft.aws.static import REFERER_REF, referer_of
from aloft.errors import ProviderError
from aloft.stage import late as lt
from aloft.stage.records import DEFAULT_ASYNC
from aloft.stage.resources import is_public_read

LAYER_MARK = "aloft deps sha256:"
CDN_REF = "cdn"
"""The `refs` key of the stage's CloudFront domain (`cdn: true`)."""


@dataclass(frozen=True)
class ActualFunction:
    name: str
    physical: str
    config: s.FunctionConfig
    architecture: str
    code_sha256: str  # hex
    alias_version: str | None
    concurrency: int | None
    async_config: s.AsyncConfig | None
    url: s.CorsSpec | Literal["none"] | None
    permissions: frozenset[str]  # statement ids on the stage alias
    versions: tuple[str, ...] = ()
    provisioned: int | None = None  # the stage alias's provisioned concurrency (requested)


@dataclass(frozen=True)
class ActualApi:
    kind: s.ApiKind
    id: str
    routes: tuple[s.RouteSpec, ...]
    cors: s.CorsSpec | None
    tracing: bool = False  # the REST API stage's TracingEnabled
    authorizers: tuple[s.AuthorizerSpec, ...] = ()  # sorted by name
    authorizer_ids: tuple[tuple[str, str], ...] = ()  # (name, id)


@dataclass(frozen=True)
class ActualMapping:
    uuid: str
    spec: s.MappingSpec


@dataclass(frozen=True)
class ActualSubscription:
    arn: str
    spec: s.SubscriptionSpec


@dataclass(frozen=True)
class ActualState:
    bucket_exists: bool = False
    objects: frozenset[str] = frozenset()
    layers: tuple[tuple[str, str], ...] = ()  # (layer version ARN, sha256)
    roles: Mapping[str, str | None] = field(default_factory=dict)  # role -> its aloft policy
    functions: Mapping[str, ActualFunction] = field(default_factory=dict)
    api: ActualApi | None = None
    rules: Mapping[str, s.RuleSpec] = field(default_factory=dict)
    mappings: tuple[ActualMapping, ...] = ()
    subscriptions: tuple[ActualSubscription, ...] = ()
    notifications: Mapping[str, tuple[s.NotificationSpec, ...]] = field(default_factory=dict)
    resources: s.Resources = field(default_factory=s.Resources)
    log_groups: Mapping[str, int | None] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)  # values for `${ref}` placeholders
    record: StateRecord = field(default_factory=StateRecord)
    static_bucket: str | None = None  # the stage's static bucket, when it exists
    static_objects: Mapping[str, str] = field(default_factory=dict)  # key -> ETag (MD5 hex)
    usage_plan: ActualUsagePlan | None = None  # the REST API's, with its API keys
    albs: Mapping[str, albs.ActualAlb] = field(default_factory=dict)  # target group name ->

    @property
    def deployed(self) -> bool:
        return bool(self.functions) or bool(self.record.releases)


def _hex(b64: str) -> str:
    try:
        return base64.b64decode(b64).hex()
    except ValueError:
        return b64


def _cors(data: Mapping[str, Any] | None) -> s.CorsSpec | None:
    if not data:
        return None
    return s.CorsSpec(
        tuple(data.get("AllowOrigins", ())), tuple(data.get("AllowMethods", ())),
        tuple(data.get("AllowHeaders", ())), tuple(data.get("ExposeHeaders", ())),
        bool(data.get("AllowCredentials", False)), int(data.get("MaxAge", 0)),
    )


def _authorizers(by_id: Mapping[str, s.AuthorizerSpec]
                 ) -> tuple[tuple[s.AuthorizerSpec, ...], tuple[tuple[str, str], ...]]:
    """(the authorizers sorted by name, their (name, id) pairs)."""
    pairs = sorted(by_id.items(), key=lambda x: x[1].name)
    return tuple(a for _, a in pairs), tuple((a.name, i) for i, a in pairs)


class StateReader:
    """Reads one stage; `desired` names the candidates besides those the record remembers
    (`history`: also the rules of every kept release, which a rollback may put back)."""

    def __init__(self, aws: AwsClient, names: Names, desired: s.Desired, *,
                 history: bool = False) -> None:
        self.aws, self.names, self.desired = aws, names, desired
        self.history = history
        self.record = StateRecord()
        self.by_alias: dict[str, str] = {}  # alias ARN -> logical function name
        self.urls: dict[str, str] = {}  # logical function name -> function URL
        self.referer: str | None = None  # the static bucket's secret Referer

    def read(self) -> ActualState:
        """The record first (it names what else to read), then the independent reads at once
        (AwsClient.parallel), then what needs their answers (the API's static route needs the
        bucket's Referer; event source mappings need the functions)."""
        aws, d = self.aws, self.desired
        bucket_exists, state = aws.parallel(
            lambda: aws.find("s3", "head_bucket", Bucket=d.bucket) is not None,
            lambda: aws.find("s3", "get_object", Bucket=d.bucket, Key=self.names.state_key))
        if state is not None:
            self.record = StateRecord.from_json(state["Body"].read())
        names = list(dict.fromkeys([f.name for f in d.functions] + list(self.record.functions)))
        for n in names:
            self.by_alias[self.names.alias_arn(n)] = n
        keys = [k for k in (d.code_key, d.layer_key) if k and bucket_exists]
        found = aws.parallel(
            lambda: [k for k in keys
                     if aws.find("s3", "head_object", Bucket=d.bucket, Key=k) is not None],
            self._layers, self._roles, self._resources, self._static, self._rules,
            self._subscriptions, self._notifications, self._log_groups, lambda: self._late(d),
            *(lambda n=n: self._function(n) for n in names))
        objects, layers, roles, (resources, stream_refs), static, rules, subscriptions, \
            notifications, log_groups, late = found[:10]
        functions = {n: fn for n, fn in zip(names, found[10:], strict=True) if fn is not None}
        static_bucket, static_objects, self.referer = static
        alb_names = list(dict.fromkeys([x.name for x in d.albs] + list(self.record.albs)))
        api, mappings, usage_plan, alb_targets = aws.parallel(
            self._api, lambda: self._mappings(functions), self._usage_plan,
            lambda: albs.read(aws, alb_names))
        refs: dict[str, str] = {}
        for arn, sha in layers:
            if sha == d.layer_sha256:
                refs["layer"] = arn
        refs.update({f"url:{n}": u for n, u in self.urls.items()})
        refs.update(stream_refs)
        if self.referer is not None:
            refs[REFERER_REF] = self.referer
        if api is not None:
            refs[lt.API] = api.id
            refs[lt.API_URL] = (f"https://{api.id}.execute-api."
                                f"{self.names.account.region}.amazonaws.com")
        refs.update(late)
        if self.record.cdn:  # the state record answers: no CloudFront read
            refs[CDN_REF] = self.record.cdn["domain"]
        return ActualState(
            bucket_exists=bucket_exists, objects=frozenset(objects), layers=tuple(layers),
            roles=roles, functions=functions, api=api, rules=rules, mappings=mappings,
            subscriptions=subscriptions, notifications=notifications, resources=resources,
            log_groups=log_groups, refs=refs, record=self.record,
            static_bucket=static_bucket, static_objects=static_objects, usage_plan=usage_plan,
            albs=alb_targets,
        )

    # -- pieces ------------------------------------------------------------------

    def _late(self, d: s.Desired) -> dict[str, str]:
        """The placeholders of the stage model that name what exists outside the stage: the
        deployment bucket, the stage's KMS key, and the exports of other stacks
        (`!ImportValue`)."""
        wanted = {ref for ref in lt.refs(json.dumps(dataclasses.asdict(d)))}
        out = {lt.DEPLOYMENT_BUCKET: d.bucket}
        if d.secret_key is not None:
            key = self.aws.find("kms", "describe_key", KeyId=d.secret_key)
            if key is not None:
                out[lt.SECRET_KEY] = str(key["KeyMetadata"]["Arn"])
        if any(lt.split(ref)[0] == lt.EXPORT for ref in wanted):
            for page in self.aws.pages("cloudformation", "list_exports", "Exports"):
                out[lt.late(lt.EXPORT, str(page["Name"]))[2:-1]] = str(page["Value"])
        return out

    def _layers(self) -> list[tuple[str, str]]:
        out = []
        for v in self.aws.pages("lambda", "list_layer_versions", "LayerVersions",
                                LayerName=self.desired.layer_name):
            desc = str(v.get("Description", ""))
            if desc.startswith(LAYER_MARK):
                out.append((str(v["LayerVersionArn"]), desc[len(LAYER_MARK):]))
        return out

    def _check_owner(self, kind: str, name: str, tags: Mapping[str, str]) -> None:
        """Refuse to take over a resource that another stack or stage made under our name."""
        if (tags.get(TAG_SERVICE), tags.get(TAG_STAGE)) != (self.names.service,
                                                             self.names.stage):
            owner = (f"aloft {tags[TAG_SERVICE]}/{tags[TAG_STAGE]}"
                     if TAG_SERVICE in tags and TAG_STAGE in tags else "something else")
            raise ProviderError(
                f"name already taken: {kind} {name} exists and was made by {owner}",
                where=self.aws.where,
                fix=f"delete or rename that {kind}, or rename the service or stage")

    def _roles(self) -> dict[str, str | None]:
        """The roles that exist of those the stage wants, made before (the record), or may
        have made (the stage's role, when the functions now have their own): their policy."""
        d = self.desired
        names = [r.name for r in d.roles] + list(self.record.roles)
        if d.roles and d.roles[0].name != self.names.role_name:
            names.append(self.names.role_name)
        out: dict[str, str | None] = {}
        for name in dict.fromkeys(names):
            found = self.aws.find("iam", "get_role", RoleName=name)
            if found is None:
                continue
            self._check_owner("IAM role", name,
                              {t["Key"]: t["Value"] for t in found["Role"].get("Tags", [])})
            got = self.aws.find("iam", "get_role_policy", RoleName=name,
                                PolicyName=self.names.policy_name)
            doc = None if got is None else got["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(doc)
            out[name] = None if doc is None else json.dumps(doc, sort_keys=True)
        return out

    def _function(self, name: str) -> ActualFunction | None:
        aws, physical, stage = self.aws, self.names.function(name), self.names.stage
        got = aws.find("lambda", "get_function", FunctionName=physical)
        if got is None:
            return None
        self._check_owner("function", physical, got.get("Tags") or {})
        alias = aws.find("lambda", "get_alias", FunctionName=physical, Name=stage)
        # Compare with what the stage serves, not $LATEST: after a failed run $LATEST may
        # already hold the new code while the alias still points at the old version.
        c = got["Configuration"] if alias is None else aws.call(
            "lambda", "get_function_configuration", FunctionName=physical, Qualifier=stage)
        vpc = c.get("VpcConfig") or {}
        logging = c.get("LoggingConfig") or {}
        config = s.FunctionConfig(
            runtime=str(c.get("Runtime", "")), handler=str(c.get("Handler", "")),
            role=str(c.get("Role", "")), memory=int(c.get("MemorySize", 128)),
            timeout=int(c.get("Timeout", 3)),
            environment=tuple(sorted((c.get("Environment") or {}).get("Variables", {}).items())),
            layers=tuple(str(x["Arn"]) for x in c.get("Layers", ())),
            description=str(c.get("Description", "")),
            tracing=(c.get("TracingConfig") or {}).get("Mode", "PassThrough"),
            subnet_ids=tuple(vpc.get("SubnetIds", ())),
            security_group_ids=tuple(vpc.get("SecurityGroupIds", ())),
            dead_letter=(c.get("DeadLetterConfig") or {}).get("TargetArn") or None,
            ephemeral_storage=int((c.get("EphemeralStorage") or {}).get("Size", 512)),
            log_format="JSON" if logging.get("LogFormat") == "JSON" else "Text",
            log_level=str(logging.get("ApplicationLogLevel") or "INFO")
            if logging.get("LogFormat") == "JSON" else None,
            snap_start=(c.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
        )
        conc = (got.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        async_config, url, sids, provisioned = (
            self._alias_settings(name, physical) if alias else (None, None, frozenset(), None))
        return ActualFunction(
            name=name, physical=physical, config=config,
            architecture=str((c.get("Architectures") or ["x86_64"])[0]),
            code_sha256=_hex(str(c.get("CodeSha256", ""))),
            alias_version=str(alias["FunctionVersion"]) if alias else None,
            concurrency=int(conc) if conc is not None else None,
            async_config=async_config, url=url, permissions=sids, provisioned=provisioned,
        )

    def _alias_settings(self, name: str, physical: str) -> tuple[
            s.AsyncConfig | None, s.CorsSpec | Literal["none"] | None, frozenset[str], int | None]:
        """What the stage alias carries: async settings, function URL, policy statement ids,
        provisioned concurrency."""
        aws, stage = self.aws, self.names.stage
        inv = aws.find("lambda", "get_function_event_invoke_config", FunctionName=physical,
                       Qualifier=stage)
        async_config = None
        if inv is not None:
            dest = inv.get("DestinationConfig") or {}
            async_config = s.AsyncConfig(int(inv.get("MaximumRetryAttempts",
                                                     DEFAULT_ASYNC.retries)),
                                         int(inv.get("MaximumEventAgeInSeconds",
                                                     DEFAULT_ASYNC.max_event_age)),
                                         (dest.get("OnFailure") or {}).get("Destination"),
                                         (dest.get("OnSuccess") or {}).get("Destination"))
        sids: frozenset[str] = frozenset()
        url: s.CorsSpec | Literal["none"] | None = None
        provisioned = None
        pc = aws.find("lambda", "get_provisioned_concurrency_config", FunctionName=physical,
                      Qualifier=stage)
        if pc is not None:
            provisioned = int(pc.get("RequestedProvisionedConcurrentExecutions") or 0) or None
        pol = aws.find("lambda", "get_policy", FunctionName=physical, Qualifier=stage)
        if pol is not None:
            doc = json.loads(pol["Policy"])
            sids = frozenset(str(st.get("Sid")) for st in doc.get("Statement", ()))
        u = aws.find("lambda", "get_function_url_config", FunctionName=physical, Qualifier=stage)
        if u is not None:
            url = _cors(u.get("Cors")) or "none"
            self.urls[name] = str(u["FunctionUrl"])
        return async_config, url, sids, provisioned

    def _static(self) -> tuple[str | None, dict[str, str], str | None]:
        """The static bucket (desired or recorded), its objects' ETags and its secret Referer."""
        aws, want = self.aws, self.desired.static
        for bucket in dict.fromkeys([want.bucket if want else None, self.record.static_bucket]):
            if bucket is None or aws.find("s3", "head_bucket", Bucket=bucket) is None:
                continue
            tags = aws.find("s3", "get_bucket_tagging", Bucket=bucket)
            self._check_owner("bucket", bucket,
                              {t["Key"]: t["Value"] for t in (tags or {}).get("TagSet", [])})
            policy = aws.find("s3", "get_bucket_policy", Bucket=bucket)
            referer = referer_of(str(policy["Policy"])) if policy else None
            objects = {str(o["Key"]): str(o.get("ETag", "")).strip('"') for o in
                       aws.pages("s3", "list_objects_v2", "Contents", Bucket=bucket)}
            return bucket, objects, referer
        return None, {}, None

    def _static_route(self, integ: Mapping[str, Any]) -> str:
        """STATIC_ROUTE for the integration this stage's static files need now, else '?'
        (a route to an old bucket or secret is replaced)."""
        want = self.desired.static
        params = integ.get("RequestParameters") or {}
        if (want is not None and self.referer is not None
                and integ.get("IntegrationUri") == f"{want.origin}/{want.prefix}{{proxy}}"
                and params.get("overwrite:header.referer") == self.referer):
            return s.STATIC_ROUTE
        return "?"

    def _api(self) -> ActualApi | None:
        rec = self.record.api
        kinds = [rec[0]] if rec else []
        if self.desired.api:
            kinds.append(self.desired.api.kind)
        for kind in dict.fromkeys(kinds):
            api_id = rec[1] if rec and rec[0] == kind else None
            if kind == "http":
                api = self._http_api(api_id)
            elif kind == "rest":
                api = self._rest_api(api_id)
            else:
                continue
            if api is not None:
                return api
        return None

    def _http_api(self, api_id: str | None) -> ActualApi | None:
        aws = self.aws
        found = None
        if api_id:
            found = aws.find("apigatewayv2", "get_api", ApiId=api_id)
        if found is None:
            found = next((a for a in aws.call("apigatewayv2", "get_apis").get("Items", [])
                          if a.get("Name") == self.names.api_name), None)
        if found is None:
            return None
        api_id = str(found["ApiId"])
        integrations = {i["IntegrationId"]: i for i in
                        aws.call("apigatewayv2", "get_integrations", ApiId=api_id).get("Items", [])}
        routes = []
        items = aws.call("apigatewayv2", "get_routes", ApiId=api_id).get("Items", [])
        auth = http_authorizers(aws, api_id, {str(r["AuthorizerId"]) for r in items
                                              if r.get("AuthorizerId")}, self.by_alias)
        for r in items:
            target = str(r.get("Target", "")).removeprefix("integrations/")
            integ = integrations.get(target, {})
            if integ.get("IntegrationType") == "HTTP_PROXY":
                fn = self._static_route(integ)
            else:
                fn = self.by_alias.get(str(integ.get("IntegrationUri", "")), "?")
            routes.append(s.RouteSpec(str(r["RouteKey"]), fn,
                                      integ.get("PayloadFormatVersion", "2.0"),
                                      **http_route_auth(r, auth)))
        return ActualApi("http", api_id, tuple(sorted(routes, key=lambda r: r.key)),
                         _cors(found.get("CorsConfiguration")), False,
                         *_authorizers(auth))

    def _rest_api(self, api_id: str | None) -> ActualApi | None:
        aws = self.aws
        found = None
        if api_id:
            found = aws.find("apigateway", "get_rest_api", restApiId=api_id)
        if found is None:
            found = next((a for a in aws.call("apigateway", "get_rest_apis").get("items", [])
                          if a.get("name") == self.names.api_name), None)
        if found is None:
            return None
        api_id = str(found["id"])
        routes = []
        auth = rest_authorizers(aws, api_id, self.by_alias)
        for res in aws.call("apigateway", "get_resources", restApiId=api_id,
                            limit=500).get("items", []):
            for method in res.get("resourceMethods", {}) or {}:
                got = aws.find("apigateway", "get_method", restApiId=api_id,
                               resourceId=res["id"], httpMethod=method) or {}
                uri = str((got.get("methodIntegration") or {}).get("uri", ""))
                alias = uri.split("/functions/")[-1].removesuffix("/invocations")
                routes.append(s.RouteSpec(f"{method} {res['path']}",
                                          self.by_alias.get(alias, "?"), "1.0",
                                          **rest_method_auth(got, auth)))
        stage = aws.find("apigateway", "get_stage", restApiId=api_id,
                         stageName=self.names.stage) or {}
        return ActualApi("rest", api_id, tuple(sorted(routes, key=lambda r: r.key)), None,
                         bool(stage.get("tracingEnabled", False)), *_authorizers(auth))

    def _usage_plan(self) -> ActualUsagePlan | None:
        """The REST API's usage plan (read when the stage has or had a REST API)."""
        rec, want = self.record.api, self.desired.api
        if (rec is None or rec[0] != "rest") and (want is None or want.kind != "rest"):
            return None
        keys = {k.name for k in want.usage_plan.keys} if want and want.usage_plan else set()
        return usage_plan(self.aws, self.names.api_name, keys)

    def _rules(self) -> dict[str, s.RuleSpec]:
        """The stage's rules: those it should have, those the record remembers (on the bus
        the last release put them on), and with `history` those of every kept release."""
        current = self.record.current
        known = [*self.desired.rules, *(current.rules or () if current else ())]
        if self.history:
            known += [r for rel in self.record.releases for r in rel.rules or ()]
        candidates = {r.name: r.bus for r in reversed(known)}
        for name in self.record.rules:
            candidates.setdefault(name, None)
        out = {}
        for name, bus in candidates.items():
            found = self._rule(name, bus)
            if found is not None:
                out[name] = found
        return out

    def _rule(self, name: str, bus: str | None) -> s.RuleSpec | None:
        on = {"EventBusName": bus} if bus else {}
        rule = self.aws.find("events", "describe_rule", Name=name, **on)
        if rule is None:
            return None
        targets = self.aws.call("events", "list_targets_by_rule", Rule=name,
                                **on).get("Targets", [])
        target = targets[0] if targets else {}
        pattern = rule.get("EventPattern")
        return s.RuleSpec(
            name, str(rule.get("ScheduleExpression", "")), rule.get("State") == "ENABLED",
            self.by_alias.get(str(target.get("Arn", "")), "?"), target.get("Input"),
            str(rule.get("Description", "")),
            json.dumps(json.loads(pattern), sort_keys=True) if pattern else None, bus,
            target.get("InputPath"))

    def _mappings(self, functions: Mapping[str, ActualFunction]) -> tuple[ActualMapping, ...]:
        out = []
        for name in functions:
            alias_arn = self.names.alias_arn(name)
            for m in self.aws.pages("lambda", "list_event_source_mappings", "EventSourceMappings",
                                    FunctionName=alias_arn):
                partial = "ReportBatchItemFailures" in (m.get("FunctionResponseTypes") or [])
                src = str(m["EventSourceArn"])
                out.append(ActualMapping(str(m["UUID"]), s.MappingSpec(
                    name, src, int(m.get("BatchSize", 10)),
                    int(m.get("MaximumBatchingWindowInSeconds", 0)), partial,
                    m.get("State", "Enabled") not in ("Disabled", "Disabling"),
                    m.get("StartingPosition") if ":sqs:" not in src else None)))
        return tuple(out)

    def _subscriptions(self) -> tuple[ActualSubscription, ...]:
        topics = dict.fromkeys([x.topic_arn for x in self.desired.subscriptions]
                               + list(self.record.topics_subscribed))
        out = []
        for topic in topics:
            if self.aws.find("sns", "get_topic_attributes", TopicArn=topic) is None:
                continue
            for sub in self.aws.pages("sns", "list_subscriptions_by_topic", "Subscriptions",
                                      TopicArn=topic):
                fn = self.by_alias.get(str(sub.get("Endpoint", "")))
                if fn is None or sub.get("SubscriptionArn", "").startswith("Pending"):
                    continue
                attrs = self.aws.call("sns", "get_subscription_attributes",
                                      SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                policy = attrs.get("FilterPolicy")
                out.append(ActualSubscription(str(sub["SubscriptionArn"]), s.SubscriptionSpec(
                    fn, topic, json.dumps(json.loads(policy), sort_keys=True) if policy else None)))
        return tuple(out)

    def _notifications(self) -> dict[str, tuple[s.NotificationSpec, ...]]:
        buckets = dict.fromkeys([b for b, _ in self.desired.notifications]
                                + list(self.record.notification_buckets))
        out = {}
        for bucket in buckets:
            conf = self.aws.find("s3", "get_bucket_notification_configuration", Bucket=bucket)
            if conf is None:
                continue
            specs = []
            for c in conf.get("LambdaFunctionConfigurations", []):
                fn = self.by_alias.get(str(c.get("LambdaFunctionArn", "")))
                if fn is None:
                    continue
                rules = {r["Name"].lower(): r["Value"] for r in
                         c.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
                specs.append(s.NotificationSpec(fn, tuple(c.get("Events", ())),
                                                rules.get("prefix"), rules.get("suffix")))
            if specs:
                out[bucket] = tuple(specs)
        return out

    def _resources(self) -> tuple[s.Resources, dict[str, str]]:
        aws, d, rec = self.aws, self.desired.resources, self.record
        refs: dict[str, str] = {}

        def candidates(specs: tuple[Any, ...], recorded: dict[str, str]) -> dict[str, str]:
            return {**recorded, **{x.key: x.name for x in specs}}

        buckets = tuple(s.BucketSpec(k, n, self._public(n))
                        for k, n in candidates(d.buckets, rec.buckets).items()
                        if aws.find("s3", "head_bucket", Bucket=n) is not None)
        queues = []
        for k, n in candidates(d.queues, rec.queues).items():
            url = aws.find("sqs", "get_queue_url", QueueName=n)
            if url is None:
                continue
            a = aws.call("sqs", "get_queue_attributes", QueueUrl=url["QueueUrl"],
                         AttributeNames=["All"])["Attributes"]
            redrive = json.loads(a["RedrivePolicy"]) if a.get("RedrivePolicy") else None
            queues.append(s.QueueSpec(
                k, n, int(a.get("VisibilityTimeout", 30)),
                int(a.get("MessageRetentionPeriod", 345600)),
                str(redrive["deadLetterTargetArn"]).split(":")[-1] if redrive else None,
                int(redrive["maxReceiveCount"]) if redrive else 3,
                a.get("FifoQueue") == "true"))
        topics = tuple(s.TopicSpec(k, n) for k, n in candidates(d.topics, rec.topics).items()
                       if aws.find("sns", "get_topic_attributes",
                                   TopicArn=self.names.topic_arn(n)) is not None)
        tables = []
        for k, n in candidates(d.tables, rec.tables).items():
            t = aws.find("dynamodb", "describe_table", TableName=n)
            if t is None:
                continue
            if t["Table"].get("LatestStreamArn"):
                refs[f"stream:{n}"] = str(t["Table"]["LatestStreamArn"])
            want = next((x for x in d.tables if x.key == k), s.TableSpec(k, n))
            tables.append(want)  # keys and streams are not changed in place
        params = []
        for k, n in candidates(d.parameters, rec.parameters).items():
            p = aws.find("ssm", "get_parameter", Name=n, WithDecryption=True)
            if p is None:
                continue
            declared = next((x for x in d.parameters if x.key == k), None)
            params.append(s.ParameterSpec(
                k, n, str(p["Parameter"]["Value"]), p["Parameter"]["Type"] == "SecureString",
                declared.description if declared else ""))
        return s.Resources(buckets, tuple(queues), topics, tuple(tables), tuple(params)), refs

    def _public(self, bucket: str) -> bool:
        """Whether the bucket has the public-read statement of a `public: true` bucket."""
        got = self.aws.find("s3", "get_bucket_policy", Bucket=bucket)
        return is_public_read(str(got["Policy"]) if got else None)

    def _log_groups(self) -> dict[str, int | None]:
        prefix = f"/aws/lambda/{self.names.prefix}-"
        return {str(g["logGroupName"]): g.get("retentionInDays") for g in
                self.aws.pages("logs", "describe_log_groups", "logGroups",
                               logGroupNamePrefix=prefix)}
