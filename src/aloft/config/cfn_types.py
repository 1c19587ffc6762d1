"""The pydantic types of CloudFormation values in the service model (aloft.config.intrinsics):
`CfnText` is text or an intrinsic, `CfnCondition` a condition; both read CloudFormation's JSON
form and dump back to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from aloft.config.intrinsics import (
    INTRINSIC_TYPES,
    SUPPORTED,
    Condition,
    Intrinsic,
    parse,
    parse_condition,
    short,
    to_cfn,
)


def _text_or_intrinsic(value: Any) -> str | Intrinsic:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    parsed = parse(value)
    if not isinstance(parsed, INTRINSIC_TYPES):
        raise ValueError(f"expected text or a CloudFormation function, not {short(value)}")
    return parsed


def _dump(value: Any) -> Any:
    return to_cfn(value)


_SCHEMA = {"anyOf": [
    {"type": "string"},
    {"type": "object", "minProperties": 1, "maxProperties": 1,
     "description": "A CloudFormation function: " + ", ".join(SUPPORTED) + "."},
]}

if TYPE_CHECKING:
    CfnText = str | Intrinsic
    CfnCondition = Condition
else:  # pydantic sees an opaque value with its own validator, serializer and schema
    CfnText = Annotated[
        object, PlainValidator(_text_or_intrinsic), PlainSerializer(_dump),
        WithJsonSchema(_SCHEMA),
    ]
    CfnCondition = Annotated[
        object, PlainValidator(parse_condition), PlainSerializer(_dump),
        WithJsonSchema({"type": "object", "description": "Fn::Equals, Fn::And, Fn::Or, Fn::Not "
                        "or Condition, as in CloudFormation's `Conditions`."}),
    ]
"""CfnText: text, or a CloudFormation intrinsic kept for the stage model (numbers and booleans
become text, as Lambda's environment and IAM's ARNs are text). CfnCondition: a condition."""
