"""docs/aws.md's "The permissions a deploy needs" is true to the code (pure: no AWS, no network).

The aws provider's source is parsed (`ast`) for every call it makes through `AwsClient` (whose
`call`/`find`/`pages` take the boto3 client's name and the method's snake_case name, and which
is the only module that imports boto3); botocore's service models name each operation; the
tables below turn operations into the IAM actions that authorise them. Every operation must be
allowed by the documented policy, and the policy must allow nothing the code never calls.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src" / "aloft" / "aws"
DOC = ROOT / "docs" / "aws.md"
SECTION = "## The permissions a deploy needs"

# AwsClient's methods (and ApplyContext._ignore_missing) whose first two arguments are the boto3
# client's name and the operation's method name: `aws.call("lambda", "get_function", ...)`.
WRAPPERS = frozenset({"call", "find", "pages", "_ignore_missing"})

# -- operations -> IAM actions ------------------------------------------------------------------

# IAM's service prefix where it is not the boto3 client's name.
PREFIX = {"elbv2": "elasticloadbalancing", "apigatewayv2": "apigateway"}

# Operations authorised by an action of another name (Service Authorization Reference; S3's
# from the operations' own documentation in botocore's models).
RENAMED = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "DeleteObjects"): "s3:DeleteObject",  # one action per object, no batch action
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "PutBucketEncryption"): "s3:PutEncryptionConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "s3:PutBucketNotification",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",  # no batch action
    ("cloudfront", "CreateDistributionWithTags"): "cloudfront:CreateDistribution",
}

# What an operation needs besides its own action, as aloft calls it: tags given on create
# ("tag on create" is authorised by the service's tagging action), the role a function is given,
# the objects Lambda reads with the caller's credentials, the KMS key SSM uses on the caller's
# behalf, and what Lambda checks of a VPC and of layers.
_VPC = ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")
ALSO: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "CreateFunction"): ("iam:PassRole", "lambda:TagResource", "s3:GetObject",
                                   "lambda:GetLayerVersion", *_VPC),
    ("lambda", "UpdateFunctionConfiguration"): ("iam:PassRole", "lambda:GetLayerVersion", *_VPC),
    ("lambda", "UpdateFunctionCode"): ("s3:GetObject",),
    ("lambda", "PublishLayerVersion"): ("s3:GetObject",),
    ("lambda", "GetFunction"): ("lambda:ListTags",),  # its answer has the function's tags
    ("s3", "DeleteObjects"): ("s3:DeleteObjectVersion",),  # emptying a versioned bucket
    ("iam", "CreateRole"): ("iam:TagRole",),
    ("sqs", "CreateQueue"): ("sqs:TagQueue",),
    ("sns", "CreateTopic"): ("sns:TagResource",),
    ("dynamodb", "CreateTable"): ("dynamodb:TagResource",),
    ("logs", "CreateLogGroup"): ("logs:TagResource",),
    ("events", "PutRule"): ("events:TagResource",),
    ("elbv2", "CreateTargetGroup"): ("elasticloadbalancing:AddTags",),
    ("kms", "CreateKey"): ("kms:TagResource",),
    ("cloudfront", "CreateDistributionWithTags"): ("cloudfront:TagResource",),
    ("ssm", "PutParameter"): ("ssm:AddTagsToResource", "kms:Encrypt"),  # SecureString: stage key
    ("ssm", "GetParameter"): ("kms:Decrypt",),  # WithDecryption
}

# Operations IAM does not authorise (anyone may call them).
NO_PERMISSION = frozenset({("sts", "GetCallerIdentity")})

# API Gateway authorises its management API by HTTP method (`apigateway:GET`, ...) on the
# request's path (`arn:aws:apigateway:REGION::/apis/ID/routes`), both from botocore's model.
# Tags given on create are authorised as the tagging call's method on `/tags/ARN`; a domain
# name's certificate by `apigateway:AddCertificateToDomain`.
APIGATEWAY = ("apigateway", "apigatewayv2")
APIGATEWAY_ALSO: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("apigateway", "CreateRestApi"): (("apigateway:PUT", "/tags/x"),),
    ("apigateway", "CreateApiKey"): (("apigateway:PUT", "/tags/x"),),
    ("apigateway", "CreateUsagePlan"): (("apigateway:PUT", "/tags/x"),),
    ("apigatewayv2", "CreateApi"): (("apigateway:POST", "/tags/x"),),
    ("apigatewayv2", "CreateDomainName"): (("apigateway:POST", "/tags/x"),
                                           ("apigateway:AddCertificateToDomain",
                                            "/domainnames/x")),
}
REGION, ACCOUNT = "eu-west-1", "123456789012"


@dataclass(frozen=True)
class Call:
    """One AWS operation the source calls: the boto3 client and the method's name."""

    client: str
    method: str
    where: str


class Unresolved(Exception):
    """A call whose client or operation the source does not say in a way this can read."""


# -- the calls the source makes -----------------------------------------------------------------


@cache
def _clients() -> frozenset[str]:
    import botocore.session  # type: ignore[import-untyped]

    return frozenset(botocore.session.get_session().get_available_services())


_FORWARDED = frozenset({"<forwarded>"})


class _Finder(ast.NodeVisitor):
    def __init__(self, filename: str, tree: ast.Module) -> None:
        self.filename = filename
        self.calls: list[Call] = []
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                          and isinstance(n.value, ast.Constant)
                          and isinstance(n.value.value, str)
                          for t in n.targets if isinstance(t, ast.Name)}

    def _where(self, node: ast.AST) -> str:
        return f"{self.filename}:{getattr(node, 'lineno', '?')}"

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    def _strings(self, node: ast.expr) -> frozenset[str]:
        """Every string `node` can be; _FORWARDED for a parameter a wrapper passes on."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return frozenset({node.value})
        if isinstance(node, ast.IfExp):
            return self._strings(node.body) | self._strings(node.orelse)
        if isinstance(node, ast.Name):
            fn = self.functions[-1] if self.functions else None
            if fn is not None:
                a = fn.args
                params = {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
                if node.id in params:
                    if fn.name in WRAPPERS:
                        return _FORWARDED
                    raise Unresolved(f"{self._where(node)}: `{node.id}` is a parameter of "
                                     f"{fn.name}(): name the operation at the call, or add "
                                     "the helper to WRAPPERS")
                values = [n.value for n in ast.walk(fn) if isinstance(n, ast.Assign)
                          and any(isinstance(t, ast.Name) and t.id == node.id
                                  for t in n.targets)]
                if values:
                    return frozenset().union(*(self._strings(v) for v in values))
            if node.id in self.constants:
                return frozenset({self.constants[node.id]})
        raise Unresolved(f"{self._where(node)}: cannot tell which AWS call "
                         f"`{ast.unparse(node)}` names")

    def _add(self, node: ast.AST, clients: frozenset[str], methods: frozenset[str]) -> None:
        if _FORWARDED in (clients, methods):
            return
        for c in clients:
            for m in methods:
                self.calls.append(Call(c.split("#")[0], m, self._where(node)))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        raw = _client_expr(func.value) if isinstance(func, ast.Attribute) else None
        if raw is not None:  # a method of a boto3 client itself: `self._client(x).m(...)`
            assert isinstance(func, ast.Attribute)
            clients = self._strings(raw.args[0])
            if func.attr == "get_paginator":  # paginates the operation it names
                self._add(node, clients, self._strings(node.args[0]))
            elif func.attr == "get_waiter":  # polls the waiter's describe/get operation
                names = self._strings(node.args[0])
                if _FORWARDED not in (clients, names):
                    self._add(node, clients, frozenset(
                        _waiter_method(c, n) for c in clients for n in names))
            else:
                self._add(node, clients, frozenset({func.attr}))
        elif isinstance(func, ast.Name) and func.id == "getattr" and node.args \
                and (raw := _client_expr(node.args[0])) is not None:
            self._add(node, self._strings(raw.args[0]), self._strings(node.args[1]))
        elif isinstance(func, ast.Attribute) and func.attr in WRAPPERS:
            if any(isinstance(a, ast.Starred) for a in node.args[:2]):
                raise Unresolved(f"{self._where(node)}: `*args` hides the AWS call")
            if len(node.args) < 2:
                return  # not an AWS call (`text.find("x")`)
            first = node.args[0]
            if isinstance(first, ast.Constant) and (
                    not isinstance(first.value, str)
                    or first.value.split("#")[0] not in _clients()):
                return  # not an AWS call (`text.find("x", 3)`)
            self._add(node, self._strings(first), self._strings(node.args[1]))


def _client_expr(node: ast.expr) -> ast.Call | None:
    """`self._client(service)` / `_client(service)`: a boto3 client."""
    if isinstance(node, ast.Call) and node.args and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "_client")
            or (isinstance(node.func, ast.Name) and node.func.id == "_client")):
        return node
    return None


def _waiter_method(client: str, waiter: str) -> str:
    """The operation boto3's `get_waiter(waiter)` polls (`function_active_v2`: GetFunction)."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_waiter_model(client.split("#")[0])
    name = {xform_name(w): w for w in model.waiter_names}[waiter]
    return str(xform_name(model.get_waiter(name).operation))


def aws_calls(source: str, filename: str = "<source>") -> list[Call]:
    """Every AWS operation `source` calls (raises Unresolved when it cannot tell)."""
    tree = ast.parse(source, filename)
    finder = _Finder(filename, tree)
    finder.visit(tree)
    return finder.calls


def provider_calls() -> list[Call]:
    out = []
    for path in sorted(SOURCE.rglob("*.py")):
        out += aws_calls(path.read_text(), str(path.relative_to(ROOT)))
    return out


# -- what IAM authorises ------------------------------------------------------------------------


@cache
def _operations(client: str) -> dict[str, Any]:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(client)
    return {xform_name(op): model.operation_model(op) for op in model.operation_names}


def needs(call: Call) -> Iterator[tuple[str, str | None]]:
    """The (IAM action, resource ARN or None when any) that `call` needs."""
    ops = _operations(call.client)
    assert call.method in ops, f"{call.where}: {call.client} has no operation {call.method}"
    op = ops[call.method].name
    key = (call.client, op)
    if key in NO_PERMISSION:
        return
    if call.client in APIGATEWAY:
        http = ops[call.method].http
        path = re.sub(r"\{[^}]+\}", "x", http["requestUri"].split("?")[0])
        yield f"apigateway:{http['method']}", _apigateway_arn(path.removeprefix("/v2"))
        for action, p in APIGATEWAY_ALSO.get(key, ()):
            yield action, _apigateway_arn(p)
        return
    yield RENAMED.get(key, f"{PREFIX.get(call.client, call.client)}:{op}"), None
    for action in ALSO.get(key, ()):
        yield action, None


def _apigateway_arn(path: str) -> str:
    return f"arn:aws:apigateway:{REGION}::{path}"


def _glob(pattern: str, *, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, 0 if case else re.IGNORECASE)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(statement: dict[str, Any], action: str, resource: str | None) -> bool:
    """Does `statement` allow `action` (on `resource`; None: on something)? Conditions are not
    evaluated."""
    if statement.get("Effect") != "Allow":
        return False
    if not any(_glob(a, case=False).fullmatch(action) for a in _listed(statement["Action"])):
        return False
    return resource is None or any(_glob(r, case=True).fullmatch(resource)
                                   for r in _listed(statement["Resource"]))


# -- the documented policy ----------------------------------------------------------------------


def documented_policy() -> dict[str, Any]:
    """The one ```json block of the section."""
    text = DOC.read_text()
    assert SECTION in text, f"docs/aws.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)\n```", section, re.DOTALL)
    assert len(blocks) == 1, f"{SECTION} should have one ```json block, has {len(blocks)}"
    policy: dict[str, Any] = json.loads(blocks[0])
    return policy


def _needed() -> dict[tuple[str, str | None], list[str]]:
    out: dict[tuple[str, str | None], list[str]] = {}
    for call in provider_calls():
        for need in needs(call):
            out.setdefault(need, []).append(call.where)
    return out


# -- the tests ----------------------------------------------------------------------------------


def test_the_policy_is_an_iam_policy() -> None:
    policy = documented_policy()
    assert policy["Version"] == "2012-10-17"
    assert isinstance(policy["Statement"], list) and policy["Statement"]
    sids = [s.get("Sid") for s in policy["Statement"]]
    assert all(isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids), sids
    assert len(set(sids)) == len(sids), "Sids repeat"
    for s in policy["Statement"]:
        assert set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, s["Sid"]
        assert s["Effect"] == "Allow", s["Sid"]
        for key in ("Action", "Resource"):
            assert _listed(s[key]) and all(isinstance(v, str) and v for v in _listed(s[key]))
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", a) for a in _listed(s["Action"]))
        assert all(r == "*" or r.startswith("arn:aws:") for r in _listed(s["Resource"]))


def test_every_call_the_provider_makes_is_allowed() -> None:
    statements = documented_policy()["Statement"]
    missing = sorted(f"{action}" + (f" on {resource}" if resource else "") + f" ({where[0]})"
                     for (action, resource), where in _needed().items()
                     if not any(allows(s, action, resource) for s in statements))
    assert not missing, (
        "docs/aws.md's deploy policy lacks:\n" + "\n".join(missing) + "\n(add each to the "
        "policy; where the IAM action is not named as its operation, as S3's often are, add it "
        "to RENAMED after checking the Service Authorization Reference)")


def test_the_policy_allows_nothing_the_provider_never_calls() -> None:
    needed = _needed()
    unused = []
    for s in documented_policy()["Statement"]:
        for action in _listed(s["Action"]):
            if action.startswith("apigateway:"):  # each method on each path must be used
                for resource in _listed(s["Resource"]):
                    one = {"Effect": "Allow", "Action": action, "Resource": resource}
                    if not any(r is not None and allows(one, a, r) for a, r in needed):
                        unused.append(f"{s['Sid']}: {action} on {resource}")
            elif not any(allows({"Effect": "Allow", "Action": action, "Resource": "*"}, a, None)
                         for a, _ in needed):
                unused.append(f"{s['Sid']}: {action}")
    assert not unused, "the deploy policy allows what aloft never calls:\n" + "\n".join(unused)


LONGEST = 48
"""The longest service name whose every physical name keeps it whole (bucket names, 63
characters at most, cut longer ones inside it); docs/aws.md says so."""


def _outside(service: str) -> list[str]:
    """What a stage of `service` names on AWS (aloft.stage.names, aloft.aws.names) that the
    documented resources, with SERVICE replaced, do not cover."""
    from aloft.aws.names import Names
    from aloft.stage.names import Account, secret_key_alias

    text = json.dumps(documented_policy()).replace("SERVICE", service)
    statements = json.loads(text)["Statement"]
    n = Names(service, "prod", Account(ACCOUNT, REGION))
    s3 = "arn:aws:s3:::"
    wanted = [
        ("lambda:UpdateFunctionCode", n.function_arn("api")),
        ("lambda:UpdateAlias", n.function_arn("a-function-name-long-enough-to-be-cut-short")),
        ("lambda:AddPermission", n.alias_arn("api")),
        ("lambda:PublishLayerVersion", n.account.arn("lambda", f"layer:{n.layer_name}")),
        ("lambda:DeleteLayerVersion", n.account.arn("lambda", f"layer:{n.layer_name}:3")),
        ("iam:PassRole", n.role_arn),
        ("iam:PassRole", n.function_role_arn("api")),
        ("iam:PutRolePolicy", n.function_role_arn("api")),
        ("s3:CreateBucket", s3 + n.deployment_bucket),
        ("s3:PutObject", s3 + n.deployment_bucket + "/" + n.code_key("ab12")),
        ("s3:GetObject", s3 + n.deployment_bucket + "/" + n.state_key),
        ("s3:PutBucketPolicy", s3 + n.static_bucket),
        ("s3:DeleteObject", s3 + n.static_bucket + "/assets/app.css"),
        ("s3:PutBucketNotification", s3 + n.bucket("uploads")),
        ("logs:FilterLogEvents", n.account.arn("logs", f"log-group:{n.log_group('api')}:*")),
        ("events:PutRule", n.rule_arn(n.rule("api-schedule"))),
        ("events:PutRule", n.rule_arn(n.rule("api-eventbridge"), "orders")),
        ("sqs:ReceiveMessage", n.queue_arn(n.failure_queue)),
        ("sqs:CreateQueue", n.queue_arn(n.queue("jobs", fifo=True))),
        ("sns:CreateTopic", n.topic_arn(n.topic("alerts"))),
        ("dynamodb:CreateTable", n.table_arn(n.table("items"))),
        ("ssm:PutParameter", n.parameter_arn(n.parameter("api-key"))),
        ("ssm:PutParameter", n.parameter_arn(n.secret_parameter("TOKEN"))),
        ("kms:CreateAlias", n.account.arn("kms", secret_key_alias(service, "prod"))),
    ]
    return [f"{action} on {arn}" for action, arn in wanted
            if not any(allows(s, action, arn) for s in statements)]


@pytest.mark.parametrize("service", ["shop", "a" * LONGEST])
def test_the_resources_follow_aloft_s_names(service: str) -> None:
    """Names cut to AWS's limits (with a hash) included."""
    outside = _outside(service)
    assert not outside, f"service {service!r}: not allowed:\n" + "\n".join(outside)


def test_the_longest_service_name_the_doc_gives_is_the_longest_that_fits() -> None:
    assert _outside("a" * (LONGEST + 1)), "a longer service name fits: say so in docs/aws.md"
    section = " ".join(DOC.read_text().split(SECTION, 1)[1].split())
    assert f"longer than {LONGEST} characters" in section


# -- the extraction itself, on snippets ---------------------------------------------------------


def test_a_new_call_is_found_and_is_not_in_the_policy() -> None:
    """Adding an AWS call to the provider without documenting it fails the tests above."""
    snippet = 'def f(aws):\n    aws.call("lambda", "get_account_settings")\n'
    calls = aws_calls(snippet)
    assert [(c.client, c.method) for c in calls] == [("lambda", "get_account_settings")]
    [(action, _)] = list(needs(calls[0]))
    assert action == "lambda:GetAccountSettings"
    assert not any(allows(s, action, None) for s in documented_policy()["Statement"])


def test_the_extraction_reads_every_form_the_provider_uses() -> None:
    snippet = '''
_INVOKER = "lambda#invoke"

class Client:
    def call(self, service, operation, **params):
        return getattr(self._client(service), operation)(**params)

    def pages(self, service, operation, key, **params):
        return self._client(service).get_paginator(operation).paginate(**params)

    def invoke(self):
        return self.call(_INVOKER, "invoke", FunctionName="f")

def steps(aws, enabled, exists):
    aws.find("s3", "head_bucket", Bucket="b")
    aws.pages("logs", "filter_log_events", "events", logGroupName="g")
    aws.call("events", "enable_rule" if enabled else "disable_rule", Name="r")
    op = "update_function_url_config" if exists else "create_function_url_config"
    aws.call("lambda", op, FunctionName="f")
    aws._client("lambda").get_waiter("function_active_v2").wait(FunctionName="f")
    aws._client("sqs").get_paginator("list_queues")
    "text".find("x", 3)
'''
    assert sorted((c.client, c.method) for c in aws_calls(snippet)) == [
        ("events", "disable_rule"), ("events", "enable_rule"),
        ("lambda", "create_function_url_config"), ("lambda", "get_function"),
        ("lambda", "invoke"), ("lambda", "update_function_url_config"),
        ("logs", "filter_log_events"), ("s3", "head_bucket"), ("sqs", "list_queues")]


@pytest.mark.parametrize("snippet", [
    'def f(aws, op):\n    aws.call("s3", op)\n',  # a helper passing an operation on
    'def f(aws, names):\n    aws.call("s3", names[0])\n',
    'def f(aws, args):\n    aws.call(*args)\n',
])
def test_a_call_it_cannot_read_fails_loudly(snippet: str) -> None:
    with pytest.raises(Unresolved):
        aws_calls(snippet)


def test_only_the_client_module_imports_boto3() -> None:
    """Else calls could bypass AwsClient, and this test would not see them."""
    importing = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("boto3", "botocore") for n in names):
                importing.append(str(path.relative_to(ROOT)))
    assert sorted(set(importing)) == ["src/aloft/aws/client.py"]
