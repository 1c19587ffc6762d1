"""serverless.yml's `provider` section as aloft keys (service-wide settings and `aws:`)."""

from __future__ import annotations

from typing import Any

from aloft.config.builder import Builder, unsupported
from aloft.config.serverless_auth import api_keys, http_api_authorizers, usage_plan
from aloft.config.source import KeyPath

SERVERLESS_MEMORY = 1024
SERVERLESS_TIMEOUT = 6

_SIMPLE: dict[str, KeyPath] = {
    "runtime": ("runtime",), "region": ("aws", "region"), "profile": ("aws", "profile"),
    "memorySize": ("memory",), "timeout": ("timeout",),
    "logRetentionInDays": ("aws", "log_retention_days"),
    "architecture": ("aws", "architecture"), "layers": ("layers",),
}
_SILENT = {"name", "stage", "lambdaHashingVersion", "versionFunctions", "variableSyntax"}
"""Keys whose meaning aloft has anyway (aws; the stage; versions are always published)."""
_READ = {*_SIMPLE, *_SILENT, "environment", "iamRoleStatements", "iam", "role", "httpApi",
         "apiGateway", "apiKeys", "usagePlan", "vpc", "tags", "stackTags", "tracing",
         "deploymentBucket", "deploymentMethod"}
"""The provider keys aloft reads (`convert_provider`): a key close to one is a typo."""
_WHY: dict[str, str] = {
    "iamManagedPolicies": "managed policies are not attached; list the actions your functions "
                          "need in `iam.role.statements`",
    "rolePermissionsBoundary": "aloft's role has no permissions boundary",
    "cfnRole": "aloft deploys with your own credentials",
    "stackName": "aloft names its resources {service}-{stage}-...",
    "apiName": "aloft names the API {service}-{stage}",
    "endpointType": "aloft's REST API is regional",
    "kmsKeyArn": "environment variables are encrypted with Lambda's own key",
    "logs": "aloft's own logs (`aloft tail`) replace API Gateway access logs",
    "deploymentPrefix": "aloft names deployment objects by their content hash",
    "websocketsApiName": "websocket APIs are not supported yet",
    "alb": "ALB listeners are set per `alb` event",
    "ecr": "container images are not supported; aloft deploys zip packages",
    "eventBridge": "aloft creates EventBridge rules itself",
    "s3": "bucket settings for `s3` events: aloft creates the buckets with its defaults",
    "runtimeManagement": "aloft pins the runtime version you set",
    "notificationArns": "aloft does not deploy through CloudFormation stacks",
    "stackPolicy": "aloft does not deploy through CloudFormation stacks",
    "rollbackConfiguration": "`aloft rollback` replaces CloudFormation rollbacks",
    "disableRollback": "a failing aloft deploy keeps the version that serves",
}


def convert_provider(out: Builder, provider: dict[str, Any]) -> None:
    p: KeyPath = ("provider",)
    out.put(("memory",), SERVERLESS_MEMORY, (*p, "memorySize"))
    out.put(("timeout",), SERVERLESS_TIMEOUT, (*p, "timeout"))
    for key, value in provider.items():
        at = (*p, key)
        if key in _SIMPLE:
            out.put(_SIMPLE[key], value, at)
        elif key in _SILENT:
            if key == "name" and value != "aws":
                out.warn(at, f"provider {value!r}: aloft reads AWS services only")
        elif key == "environment":
            environment(out, value, ("environment",), at)
        elif key == "iamRoleStatements":
            statements(out, value, ("permissions",), at)
        elif key == "iam":
            _iam(out, value if isinstance(value, dict) else {}, at)
        elif key == "role":
            _role(out, value, at)
        elif key == "httpApi":
            _http_api(out, value if isinstance(value, dict) else {}, at)
        elif key == "apiGateway":
            _api_gateway(out, value if isinstance(value, dict) else {}, at)
        elif key == "apiKeys":  # v2's place for them
            api_keys(out, value, at)
        elif key == "usagePlan":
            usage_plan(out, value, at)
        elif key == "vpc":
            vpc = value if isinstance(value, dict) else {}
            out.put(("aws", "vpc"), {"subnet_ids": vpc.get("subnetIds", []),
                                     "security_group_ids": vpc.get("securityGroupIds", [])}, at)
        elif key in ("tags", "stackTags"):
            tags = value if isinstance(value, dict) else {}
            out.put(("aws", "tags"), {**out.get(("aws", "tags"), {}), **tags}, at)
        elif key == "tracing":
            lam = value.get("lambda") if isinstance(value, dict) else None
            out.put(("aws", "tracing"), lam is True or lam == "Active", at)
            if isinstance(value, dict) and value.get("apiGateway"):
                out.warn((*at, "apiGateway"), "API Gateway tracing is not set by aloft; "
                         "the functions are traced")
        elif key == "deploymentBucket":
            name = value.get("name") if isinstance(value, dict) else value
            out.put(("aws", "bucket"), name, at)
        elif key == "deploymentMethod":
            continue  # how CloudFormation is driven: aloft applies its own plan
        else:
            out.warn(at, _WHY.get(key) or unsupported(key, _READ))


def environment(out: Builder, value: Any, path: KeyPath, at: KeyPath) -> None:
    """`environment` entries: text, numbers and CloudFormation functions (kept typed)."""
    if not isinstance(value, dict):
        out.put(path, value, at)  # validation reports the type
        return
    for name, text in value.items():
        out.put((*path, str(name)), text, (*at, name))


def statements(out: Builder, value: Any, path: KeyPath, at: KeyPath) -> None:
    """IAM statements appended at `path`: `Sid` is dropped; a statement with a `Condition`,
    `NotAction` or `NotResource` aloft cannot apply is warned (an Allow is left out, a Deny is
    kept without its condition: never more permissive than written)."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        here = (*at, i) if isinstance(value, list) else at
        if not isinstance(item, dict):
            out.put(path, [*out.get(path, []), item], here)
            continue
        statement = {k: v for k, v in item.items() if k not in ("Sid", "sid")}
        odd = [k for k in statement if k in ("Condition", "NotAction", "NotResource")]
        if odd:
            deny = str(statement.get("Effect", "Allow")) == "Deny"
            if deny and "Condition" in odd and len(odd) == 1:
                del statement["Condition"]
                out.warn((*here, "Condition"), "IAM conditions are not applied by aloft: this "
                         "Deny applies without its condition")
            else:
                out.warn(here, f"IAM statements with {', '.join(odd)} are not applied by aloft; "
                         "this statement is left out (write Action and Resource lists instead)")
                continue
        target = out.get(path, [])
        out.put(path, [*target, statement], here)
        out.origins.set((*path, len(target)), here)


def _iam(out: Builder, iam: dict[str, Any], at: KeyPath) -> None:
    for key, value in iam.items():
        if key == "deploymentRole":
            out.warn((*at, key), "aloft deploys with your own credentials")
        elif key != "role":
            out.warn((*at, key), "not supported by aloft; ignored")
        elif isinstance(value, str):
            out.put(("aws", "role"), value, (*at, key))
        else:
            for part, item in (value if isinstance(value, dict) else {}).items():
                here = (*at, key, part)
                if part == "statements":
                    statements(out, item, ("permissions",), here)
                elif part == "managedPolicies":
                    out.warn(here, _WHY["iamManagedPolicies"])
                elif part in ("name", "path"):
                    out.warn(here, "aloft names the role {service}-{stage}-... ; set "
                             "`aws.role` to use one of yours")
                elif part == "tags":
                    continue  # the role gets the stage's tags
                else:
                    out.warn(here, "not supported by aloft; ignored")


def _role(out: Builder, value: Any, at: KeyPath) -> None:
    if isinstance(value, str) and value.startswith("arn:"):
        out.put(("aws", "role"), value, at)
    elif isinstance(value, dict):
        out.warn(at, "aloft creates the stage's role from your statements; a role defined in "
                 "`resources` is not used (set `aws.role` to an existing role's ARN)")
    else:
        out.warn(at, "only a role ARN is supported (`arn:aws:iam::...:role/...`); ignored")


def _http_api(out: Builder, http: dict[str, Any], at: KeyPath) -> None:
    for key, value in http.items():
        if key == "cors":
            out.put(("cors",), http_api_cors(value), (*at, key))
        elif key == "payload":
            out.put(("payload",), str(value), (*at, key))
        elif key in ("name", "useProviderTags", "metrics", "shouldStartNameWithService"):
            continue
        elif key == "authorizers":
            http_api_authorizers(out, value, (*at, key))
        else:
            out.warn((*at, key), "not supported by aloft; ignored")


def http_api_cors(value: Any) -> Any:
    """provider.httpApi.cors as aloft's `cors:`."""
    if not isinstance(value, dict):
        return bool(value)
    names = {"allowedOrigins": "origins", "allowedMethods": "methods",
             "allowedHeaders": "headers", "exposedResponseHeaders": "expose_headers",
             "allowCredentials": "credentials", "maxAge": "max_age"}
    return {names.get(k, k): v for k, v in value.items()}


def _api_gateway(out: Builder, api: dict[str, Any], at: KeyPath) -> None:
    for key, value in api.items():
        if key == "binaryMediaTypes":
            out.put(("binary_types",), value, (*at, key))
        elif key == "apiKeys":
            api_keys(out, value, (*at, key))
        elif key == "usagePlan":
            usage_plan(out, value, (*at, key))
        elif key in ("shouldStartNameWithService", "description", "metrics"):
            continue
        else:
            out.warn((*at, key), _WHY.get(key) or "not supported by aloft; ignored")
