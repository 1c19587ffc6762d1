"""CloudFormation intrinsics: typed values that survive validation, their resolver, the checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aloft.config import load_service
from aloft.config.cfn_references import logical_ids, serverless_function_id
from aloft.config.cfn_resolve import NO_VALUE, Unresolved, evaluate, fold, resolve
from aloft.config.intrinsics import (
    Equals,
    GetAtt,
    If,
    ImportValue,
    Join,
    Ref,
    Select,
    Split,
    Sub,
    parse,
    parse_condition,
    references,
    to_cfn,
)
from aloft.config.models import Service
from aloft.errors import ConfigError, ConfigErrors

Write = Callable[..., Path]

VALUES = {
    "Queue.url": "https://sqs.local/000000000000/shop-dev-Jobs",
    "Jobs.Arn": "arn:aws:sqs:us-east-1:000000000000:shop-dev-Jobs",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "000000000000",
    "Users.Arn": "arn:aws:dynamodb:us-east-1:000000000000:table/users",
    "Users": "users",
}


def lookup(name: str, attribute: str | None) -> Any:
    return VALUES[f"{name}.{attribute}" if attribute else name]


def test_parse_reads_every_supported_function_and_dumps_it_back() -> None:
    written = [
        {"Ref": "Users"},
        {"Fn::GetAtt": ["Users", "Arn"]},
        {"Fn::Join": [":", ["arn", {"Ref": "AWS::Region"}, "x"]]},
        {"Fn::Sub": "${Users.Arn}/index/*"},
        {"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Ref": "Users"}}]},
        {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
        {"Fn::ImportValue": {"Fn::Sub": "shared-${AWS::Region}-queue"}},
        {"Fn::If": ["IsProd", "big", {"Ref": "AWS::NoValue"}]},
    ]
    for value in written:
        assert to_cfn(parse(value)) == value
    assert parse({"Fn::GetAtt": "Users.Arn"}) == GetAtt("Users", "Arn")  # !GetAtt short form


@pytest.mark.parametrize("value, message", [
    ({"Fn::FindInMap": ["M", "a", "b"]}, "Fn::FindInMap is not supported by aloft"),
    ({"Fn::Nope": 1}, "Fn::Nope is not a CloudFormation function aloft knows"),
    ({"Fn::Join": ["-"]}, "Fn::Join takes [delimiter, [values]]"),
    ({"Fn::GetAtt": ["only-one"]}, "Fn::GetAtt takes [LogicalId, Attribute]"),
    ({"Fn::Equals": ["a", "b"]}, "Fn::Equals is a condition"),
    ({"Ref": ["x"]}, "Ref takes text here"),
])
def test_parse_refuses_what_it_does_not_read(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(value)


def test_resolve_each_function() -> None:
    assert resolve(Ref("Users"), lookup) == "users"
    assert resolve(GetAtt("Users", "Arn"), lookup) == VALUES["Users.Arn"]
    assert resolve(Join(":", ("a", Ref("AWS::Region"))), lookup) == "a:us-east-1"
    assert resolve(Sub("${Users.Arn}/index/*"), lookup) == VALUES["Users.Arn"] + "/index/*"
    assert resolve(Sub("${X}-${!Literal}", (("X", Ref("Users")),)), lookup) == "users-${Literal}"
    assert resolve(Split(",", "a,b"), lookup) == ["a", "b"]
    assert resolve(Select(1, Split(",", "a,b")), lookup) == "b"
    assert resolve(ImportValue("shared-url"), lookup, exports={"shared-url": "u"}) == "u"
    conditions = {"IsProd": parse_condition({"Fn::Equals": ["prod", "dev"]})}
    assert resolve(If("IsProd", "x", "y"), lookup, conditions=conditions) == "y"
    assert resolve(If("IsProd", "x", Ref("AWS::NoValue")), lookup,
                   conditions={"IsProd": Equals("a", "a")}) == "x"
    assert resolve(If("IsProd", "x", Ref("AWS::NoValue")), lookup,
                   conditions=conditions) is NO_VALUE
    # a list drops the items whose value is AWS::NoValue
    assert resolve(Join(",", ("a", If("IsProd", "b", Ref("AWS::NoValue")))), lookup,
                   conditions=conditions) == "a"


def test_resolve_says_what_is_missing() -> None:
    with pytest.raises(Unresolved, match=r"!GetAtt Nope\.Arn: Nope\.Arn is not known"):
        resolve(GetAtt("Nope", "Arn"), lookup)
    with pytest.raises(Unresolved, match="no stack exports 'x'"):
        resolve(ImportValue("x"), lookup)
    with pytest.raises(Unresolved, match="condition 'C' is not defined"):
        resolve(If("C", "a", "b"), lookup)
    with pytest.raises(Unresolved, match="index 5 is not in a list of 2"):
        resolve(Select(5, ("a", "b")), lookup)
    cycle = {"A": parse_condition({"Condition": "B"}), "B": parse_condition({"Condition": "A"})}
    with pytest.raises(Unresolved, match="cycle: A -> B -> A"):
        resolve(If("A", "x", "y"), lookup, conditions=cycle)


def test_conditions_evaluate() -> None:
    both = parse_condition({"Fn::And": [{"Fn::Equals": ["1", 1]},
                                        {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::Region"},
                                                                     "eu-west-1"]}]}]})
    assert evaluate(both, lookup) is True
    either = parse_condition({"Fn::Or": [{"Condition": "No"}, {"Fn::Equals": ["a", "a"]}]})
    assert evaluate(either, lookup, conditions={"No": Equals("a", "b")}) is True


def test_fold_resolves_what_is_known_now_and_keeps_the_rest() -> None:
    known = {"AWS::Region": "eu-west-1", "AWS::AccountId": "${aws:accountId}"}
    raw = {
        "arn": {"Fn::Join": [":", ["arn:aws:sqs", {"Ref": "AWS::Region"},
                                   {"Ref": "AWS::AccountId"}, "jobs"]]},
        "table": {"Fn::GetAtt": ["Users", "Arn"]},
        "list": ["a", {"Fn::If": ["Never", "b", {"Ref": "AWS::NoValue"}]}],
    }
    conditions = {"Never": Equals("a", "b")}
    assert fold(raw, known, conditions) == {
        "arn": "arn:aws:sqs:eu-west-1:${aws:accountId}:jobs",
        "table": {"Fn::GetAtt": ["Users", "Arn"]},
        "list": ["a"],
    }


def test_references_include_sub_text() -> None:
    value = parse({"Fn::Sub": ["${Users.Arn}/${Name}/${AWS::Region}", {"Name": {"Ref": "Q"}}]})
    assert list(references(value)) == [("Users", "Arn"), ("AWS::Region", None), ("Q", None)]


# --------------------------------------------------------------------------- in the model


def test_intrinsics_survive_validation_and_dump_to_cloudformation(write: Write) -> None:
    path = write("""\
        service: shop
        functions:
          worker:
            handler: jobs.run
            environment:
              QUEUE_URL: !Ref Jobs
              TABLE: {Fn::GetAtt: [Users, Arn]}
              PLAIN: 3
        permissions:
          - Effect: Allow
            Action: [dynamodb:Query]
            Resource: [!GetAtt Users.Arn, !Sub "${Users.Arn}/index/*", "arn:aws:s3:::x"]
        conditions:
          IsProd: {Fn::Equals: [prod, "${stage}"]}
        resources:
          queues: {Jobs: {}}
          tables: {Users: {}}
        """)
    svc = load_service(path, env={})
    env = svc.functions["worker"].environment
    assert env == {"QUEUE_URL": Ref("Jobs"), "TABLE": GetAtt("Users", "Arn"), "PLAIN": "3"}
    assert svc.permissions[0].resource == [GetAtt("Users", "Arn"), Sub("${Users.Arn}/index/*"),
                                           "arn:aws:s3:::x"]
    assert svc.conditions == {"IsProd": Equals("prod", "dev")}
    dumped = svc.model_dump(mode="json")
    assert dumped["functions"]["worker"]["environment"]["QUEUE_URL"] == {"Ref": "Jobs"}
    assert dumped["conditions"] == {"IsProd": {"Fn::Equals": ["prod", "dev"]}}
    assert Service.model_validate(svc.model_dump()) == svc
    # the stage model resolves them on both providers (tests/unit/stage): nothing to warn
    assert not [w for w in svc.warnings if "QUEUE_URL" in w or "permissions[0]" in w]


def test_an_unsupported_function_is_one_error_at_its_line(write: Write) -> None:
    path = write("""\
        service: shop
        app: app:app
        environment:
          A: ok
          B: !FindInMap [Regions, us-east-1, ami]
        """)
    with pytest.raises(ConfigError) as info:
        load_service(path, env={})
    err = info.value
    assert not isinstance(err, ConfigErrors)
    assert "Fn::FindInMap is not supported by aloft" in err.message
    assert err.where is not None and err.where.line == 5 and err.where.key_path == "environment.B"


def test_unknown_logical_ids_attributes_and_conditions(write: Write) -> None:
    path = write("""\
        service: shop
        app: app:app
        environment:
          A: !GetAtt Userz.Arn
          B: !GetAtt Users.Arm
          C: !If [IsProd, a, b]
        resources:
          tables: {Users: {}}
        """)
    with pytest.raises(ConfigErrors) as info:
        load_service(path, env={})
    first, second, third = info.value.errors
    assert "refers to Userz, which is not a resource or function" in first.message
    assert first.fix is not None and "did you mean `Users`?" in first.fix
    assert first.where is not None and first.where.line == 4
    assert "Users (tables) has no attribute 'Arm'" in second.message
    assert second.fix == "use one of: Arn, StreamArn"
    assert "condition 'IsProd', which is not defined" in third.message


def test_logical_ids_name_resources_functions_api_and_role(write: Write) -> None:
    path = write("""\
        service: shop
        app: app:app
        functions:
          send-mail: {handler: mail.send}
        resources:
          queues: {Jobs: {dead_letter: true}}
        """)
    ids = logical_ids(load_service(path, env={}))
    assert serverless_function_id("send-mail") == "SendDashmailLambdaFunction"
    assert ids["SendDashmailLambdaFunction"].key == "send-mail"
    assert ids["AppLambdaFunction"].kind == "function"
    assert ids["Jobs"].kind == "queues" and ids["Jobs-dlq"].kind == "queues"
    assert ids["ApiGatewayRestApi"].kind == ids["HttpApi"].kind == "api"
    assert ids["IamRoleLambdaExecution"].kind == "role"
