"""Every CloudFormation template aloft writes passes cfn-lint without an error, and says what the
deploy does (the template is built from the stage alone: no AWS, no moto)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aloft.aws.template import template, template_json
from aloft.config import load_project
from aloft.config.models import Service
from aloft.plugins.builtin.keep_warm import with_keep_warm
from aloft.plugins.loading import section_loader
from tests.aws_stage import FULL, cfn_errors

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _service(root: Path = Path("/tmp"), **fields: Any) -> Service:
    data: dict[str, Any] = {"service": "shop", "stage": "prod", "root": root,
                            "provider": "aws", "aws": {"region": "eu-west-1"},
                            "runtime": "3.12", **fields}
    return with_keep_warm(Service.model_validate(data))  # the built-in keep-warm plugin


FIXTURES = {
    "full": FULL,
    "cdn": {"app": "app:app", "static": {"path": "/assets", "directory": "no-such-dir",
                                         "cdn": True},
            "aws": {"region": "eu-west-1", "domain": "www.example.com"}},
    "cdn-rest": {"app": "app:app", "cdn": True, "aws": {"region": "eu-west-1", "api": "rest"}},
    "per-function-roles": {**FULL, "aws": {"region": "eu-west-1", "role": "per_function"}},
    "rest": {"app": "app:app", "aws": {"region": "eu-west-1", "api": "rest"},
             "functions": {"hi": {"handler": "h.h", "events": [{"http": "POST /hi/{x}"}]}}},
    "url": {"app": "app:app", "cors": True, "aws": {"region": "eu-west-1", "api": "url"}},
    "fifo-vpc": {
        "functions": {"w": {"handler": "w.w", "events": [{"queue": "jobs"}]}},
        "resources": {"queues": {"jobs": {"fifo": True, "dead_letter": True}},
                      "parameters": {"plain": "v"}},
        "aws": {"region": "eu-west-1", "tracing": True, "architecture": "arm64",
                "vpc": {"subnet_ids": ["subnet-0123456789abcdef0"],
                        "security_group_ids": ["sg-0123456789abcdef0"]}}},
    "stage-model": {
        "functions": {
            "w": {"handler": "w.w", "runtime": "3.11", "tracing": True, "dead_letter": "alerts",
                  "log_format": "json", "log_level": "DEBUG", "ephemeral_storage": 2048,
                  "destinations": {"on_success": "audit"}, "provisioned_concurrency": 3,
                  "environment": {"QUEUE": {"Ref": "Jobs"},
                                  "STREAM": {"Fn::GetAtt": ["Items", "StreamArn"]},
                                  "BUS": {"Fn::ImportValue": "shared-bus"},
                                  "AT": {"Fn::Sub": "${AWS::Region}-${Items.StreamArn}"}},
                  "events": [{"eventbridge": {"bus": "orders", "pattern": {"source": ["a"]}}},
                             {"queue": {"name": {"Fn::ImportValue": "shared-queue-arn"}}}]},
            "audit": {"handler": "w.a", "snap_start": True}},
        "resources": {"queues": {"Jobs": {}}, "topics": {"alerts": {}},
                      "tables": {"Items": {"stream": True}}}},
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_templates_lint_clean(name: str, tmp_path: Path) -> None:
    # its own root: a static directory "." is scanned (never /tmp, which others write into)
    assert cfn_errors(template_json(_service(tmp_path, **FIXTURES[name]))) == []


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()
                                           if (p / "aloft.yml").exists()))
def test_example_templates_lint_clean(example: str) -> None:
    project = load_project(EXAMPLES / example)
    services = project.services(sections=section_loader(project.root))  # plugin sections
    aws = [s for s in services.values() if s.provider == "aws"]
    service = aws[0] if aws else next(iter(services.values())).model_copy(
        update={"provider": "aws"})
    text = template_json(service)
    assert cfn_errors(text) == []
    assert json.loads(text)["Resources"]


def test_template_mirrors_the_deploy() -> None:
    t = template(_service(**FULL))
    res = t["Resources"]
    assert set(t["Parameters"]) == {"ArtifactBucket", "CodeKey", "LayerKey"}
    fn = res["WorkerFunction"]["Properties"]
    assert fn["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert fn["Layers"] == [{"Ref": "DependencyLayer"}]
    assert fn["Environment"]["Variables"]["ALOFT_FUNCTION"] == "worker"
    assert res["WorkerAlias"]["Properties"]["Name"] == "prod"
    warm = res["KeepWarmRule"]["Properties"]
    assert json.loads(warm["Targets"][0]["Input"]) == {"aloft": "keep_warm"}
    assert {r["Properties"]["RouteKey"] for r in res.values()
            if r["Type"] == "AWS::ApiGatewayV2::Route"} == {"$default", "GET /hello/{name}"}
    stream = [r for r in res.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
              and "Fn::GetAtt" in r["Properties"]["EventSourceArn"]]
    assert stream[0]["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["ItemsTable",
                                                                        "StreamArn"]}
    assert "SecureString parameter /shop/prod/api-key" in t["Metadata"]["aloft"][
        "unsupported"][0]


def test_an_api_with_route_cors_lints_clean() -> None:
    svc = _service(functions={"a": {"handler": "h.h", "events": [
        {"http": {"method": "ANY", "path": "/a/{proxy+}", "cors": True}}]}})
    assert cfn_errors(template_json(svc)) == []


def test_template_has_the_static_bucket(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "app.css").write_text("body { color: red }\n")
    (static / "js" / "app.js").write_text("console.log(1)\n")
    (static / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    site = _service(tmp_path, app="app:app", static={"path": "/assets/", "directory": "static"})
    t = template(site)
    res = t["Resources"]
    assert res["StaticBucket"]["Type"] == "AWS::S3::Bucket"
    assert "BucketName" not in res["StaticBucket"]["Properties"]
    stmt = res["StaticBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert stmt["Action"] == "s3:GetObject"
    integ = res["StaticIntegration"]["Properties"]
    assert integ["IntegrationType"] == "HTTP_PROXY"
    assert integ["RequestParameters"]["overwrite:header.referer"] == (
        stmt["Condition"]["StringEquals"]["aws:Referer"])
    routes = {r["Properties"]["RouteKey"]: r["Properties"]["Target"] for r in res.values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert routes["GET /assets/{proxy+}"] == {"Fn::Sub": "integrations/${StaticIntegration}"}
    assert "StaticBucket" in t["Outputs"] and "Url" in t["Outputs"]
    assert any("aws s3 sync" in u for u in t["Metadata"]["aloft"]["unsupported"])
    assert cfn_errors(template_json(site)) == []


def test_the_stage_models_values_and_settings_become_cloudformation() -> None:
    """Values known once deployed are CloudFormation's own functions; `eventbridge` events,
    `dead_letter`, `destinations`, a function's runtime and tracing are in the template."""
    res = template(_service(**FIXTURES["stage-model"]))["Resources"]
    fn = res["WFunction"]["Properties"]
    env = fn["Environment"]["Variables"]
    assert env["STREAM"] == {"Fn::GetAtt": ["ItemsTable", "StreamArn"]}
    assert env["BUS"] == {"Fn::ImportValue": "shared-bus"}
    assert env["AT"] == {"Fn::Sub": "${AWS::Region}-${ItemsTable.StreamArn}"}
    assert fn["Runtime"] == "python3.11" and fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG",
                                   "SystemLogLevel": "INFO"}
    assert fn["EphemeralStorage"] == {"Size": 2048}
    audit = res["AuditFunction"]["Properties"]
    assert audit["LoggingConfig"] == {"LogFormat": "Text"}
    assert audit["EphemeralStorage"] == {"Size": 512}
    assert audit["SnapStart"] == {"ApplyOn": "PublishedVersions"} and "SnapStart" not in fn
    # provisioned concurrency is the stage alias's (it follows the alias to each version)
    assert res["WAlias"]["Properties"]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": 3}
    assert "ProvisionedConcurrencyConfig" not in res["AuditAlias"]["Properties"]
    assert fn["DeadLetterConfig"]["TargetArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:shop-prod-alerts"}
    on_success = res["WInvokeConfig"]["Properties"]["DestinationConfig"]["OnSuccess"]
    assert "shop-prod-audit" in json.dumps(on_success)
    rule = next(r["Properties"] for r in res.values() if r["Type"] == "AWS::Events::Rule"
                and "EventPattern" in r["Properties"])
    assert rule["EventPattern"] == {"source": ["a"]} and rule["EventBusName"] == "orders"
    mapping = next(r["Properties"] for r in res.values()
                   if r["Type"] == "AWS::Lambda::EventSourceMapping")
    assert mapping["EventSourceArn"] == {"Fn::ImportValue": "shared-queue-arn"}


@dataclass(frozen=True)
class _Zip:
    sha256: str
    path: Path = Path("code.zip")
    size: int = 1


@dataclass(frozen=True)
class _Built:
    code: _Zip
    layer: _Zip | None = None
    tasks: bool = False


def _versions(t: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == "AWS::Lambda::Version"}


def test_new_code_or_settings_are_a_new_version_resource() -> None:
    """A Version resource is immutable: new code (or settings) must be a new logical id, or a
    stack update leaves the alias on the old version. CodeSha256 is the zip's, as Lambda
    reports it (base64)."""
    svc = _service(functions={"w": {"handler": "w.w"}})
    one = template(svc, _Built(_Zip("ab" * 32)))
    (lid, version), = _versions(one).items()
    assert version["Properties"] == {"FunctionName": {"Ref": "WFunction"},
                                     "CodeSha256": base64.b64encode(bytes([0xab] * 32)).decode()}
    assert version["DeletionPolicy"] == "Retain"  # rollbacks and history keep it
    alias = one["Resources"]["WAlias"]["Properties"]
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [lid, "Version"]}
    assert _versions(template(svc, _Built(_Zip("ab" * 32)))).keys() == {lid}  # stable
    new_code = _versions(template(svc, _Built(_Zip("cd" * 32))))
    assert new_code.keys() != {lid}
    bigger = _service(functions={"w": {"handler": "w.w", "memory": 1024}})
    assert _versions(template(bigger, _Built(_Zip("ab" * 32)))).keys() != {lid}
    assert cfn_errors(template_json(svc, _Built(_Zip("ab" * 32)))) == []


def test_a_public_bucket_has_the_local_clouds_policy() -> None:
    svc = _service(functions={"w": {"handler": "w.w"}},
                   resources={"buckets": {"media": {"public": True}, "private": {}}})
    res = template(svc)["Resources"]
    props = res["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert (props["BlockPublicPolicy"], props["BlockPublicAcls"]) == (False, True)
    doc = res["MediaBucketPolicy"]["Properties"]["PolicyDocument"]
    assert doc["Statement"][0]["Action"] == "s3:GetObject"
    assert doc["Statement"][0]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucket}/*"}
    assert "PrivateBucketPolicy" not in res
    assert all(res["PrivateBucket"]["Properties"]["PublicAccessBlockConfiguration"].values())
    assert cfn_errors(template_json(svc)) == []


def test_the_stage_key_is_named_by_its_alias_in_a_template() -> None:
    """The key's ARN exists once `aloft secret set` (or a deploy) made it: a template names
    the account's keys with the stage key's alias as a condition."""
    res = template(_service(**FULL))["Resources"]
    doc = res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    (decrypt,) = [st for st in doc["Statement"] if st["Sid"] == "Decrypt"]
    assert decrypt["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}]
    assert decrypt["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/aloft/shop-prod"}
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}


def test_per_function_roles_give_each_function_its_own_policy() -> None:
    res = template(_service(**{**FULL, "aws": {"region": "eu-west-1",
                                               "role": "per_function"}}))["Resources"]
    assert "Role" not in res
    assert res["WorkerFunction"]["Properties"]["Role"] == {"Fn::GetAtt": ["WorkerRole", "Arn"]}
    assert res["HelloRole"]["Properties"]["RoleName"] == "shop-prod-hello-lambda"
    sids = {n: {st["Sid"] for st in res[n]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"]} for n in ("WorkerRole", "HelloRole")}
    assert {"ConsumedQueues", "Streams", "Secrets", "User0"} <= sids["WorkerRole"]
    assert not {"ConsumedQueues", "Streams", "Secrets", "User0"} & sids["HelloRole"]


def test_a_cdn_fronts_the_api_and_the_static_bucket(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("body {}\n")
    service = _service(tmp_path, app="app:app",
                       static={"path": "/assets", "directory": "static", "cdn": True})
    assert cfn_errors(template_json(service)) == []
    res = template(service)["Resources"]
    config = res["Cdn"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["static"]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["CdnAccessControl", "Id"]}
    assert config["CacheBehaviors"][0]["PathPattern"] == "assets/*"
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "api"
    statements = res["StaticBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [st["Sid"] for st in statements] == ["AloftStaticReadThroughApi",
                                                "AloftStaticReadThroughCdn"]
    uri = res["StaticIntegration"]["Properties"]["IntegrationUri"]["Fn::Sub"]
    assert uri.endswith("/assets/{proxy}")


def test_per_function_roles_refuse_a_reference_to_the_stage_role() -> None:
    from aloft.errors import ConfigError

    with pytest.raises(ConfigError, match="per_function"):
        template(_service(app="app:app", aws={"region": "eu-west-1", "role": "per_function"},
                          environment={"ROLE": {"Fn::GetAtt": ["IamRoleLambdaExecution",
                                                               "RoleId"]}}))


LISTENER = ("arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/"
            "50dc6c495c0c9188/f2f7dc8efc522ab2")


def test_alb_events_are_target_groups_and_listener_rules() -> None:
    svc = _service(functions={"a": {"handler": "h.h", "events": [{"alb": {
        "listener": LISTENER, "priority": 7, "paths": ["/api/*"], "methods": ["get", "post"],
        "multi_value_headers": True}}]}})
    text = template_json(svc)
    assert cfn_errors(text) == []
    res = json.loads(text)["Resources"]
    [group] = [r for r in res.values() if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"]
    [rule] = [r["Properties"] for r in res.values()
              if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"]
    props = group["Properties"]
    assert props["TargetType"] == "lambda" and props["Targets"] == [{"Id": {"Ref": "AAlias"}}]
    assert {"Key": "lambda.multi_value_headers.enabled", "Value": "true"} in \
        props["TargetGroupAttributes"]
    # the load balancer may invoke the alias before the target is registered
    [permission] = group["DependsOn"]
    perm = res[permission]["Properties"]
    assert perm["Principal"] == "elasticloadbalancing.amazonaws.com"
    assert perm["SourceArn"]["Fn::Sub"].endswith(f":targetgroup/{props['Name']}/*")
    assert rule["ListenerArn"] == LISTENER and rule["Priority"] == 7
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "POST"]}}]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": next(
        k for k, v in res.items() if v["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup")}}]


def test_two_alb_events_of_a_function_are_two_groups_and_rules() -> None:
    other = LISTENER.replace("f2f7dc8efc522ab2", "0123456789abcdef")
    svc = _service(functions={"a": {"handler": "h.h", "events": [
        {"alb": {"listener": LISTENER, "priority": 7, "paths": ["/a"]}},
        {"alb": {"listener": other, "priority": 7, "paths": ["/b"]}}]}})
    text = template_json(svc)
    assert cfn_errors(text) == []
    res = json.loads(text)["Resources"]
    groups = [r["Properties"]["Name"] for r in res.values()
              if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"]
    rules = [r["Properties"]["ListenerArn"] for r in res.values()
             if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"]
    assert len(set(groups)) == 2 and sorted(rules) == sorted([LISTENER, other])
