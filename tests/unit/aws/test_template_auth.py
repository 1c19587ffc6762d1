"""The template's API authorization and tracing: authorizers, a route's authorizer and API key,
the usage plan, X-Ray on the REST API's stage; each template passes cfn-lint."""

from __future__ import annotations

from typing import Any

from aloft.aws.template import template, template_json
from tests.aws_stage import cfn_errors
from tests.unit.aws.test_template import _service

REST = {"region": "eu-west-1", "api": "rest"}
HELLO = {"h": {"handler": "h.h", "events": [{"http": "GET /h"}]}}


def _resources(**fields: Any) -> dict[str, Any]:
    return template(_service(**fields))["Resources"]  # type: ignore[no-any-return]


def test_tracing_sets_the_rest_stage_and_the_functions() -> None:
    fields: dict[str, Any] = {"functions": HELLO, "aws": {**REST, "tracing": True}}
    res = _resources(**fields)
    assert res["ApiStage"]["Properties"]["TracingEnabled"] is True
    assert res["HFunction"]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    statements = res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert any("xray:PutTraceSegments" in st["Action"] for st in statements)
    assert cfn_errors(template_json(_service(**fields))) == []
    off = _resources(functions=HELLO, aws=REST)
    assert "TracingEnabled" not in off["ApiStage"]["Properties"]


def test_an_http_api_stage_has_no_tracing_property() -> None:
    res = _resources(functions=HELLO, aws={"region": "eu-west-1", "tracing": True})
    assert "TracingEnabled" not in res["ApiStage"]["Properties"]
    assert res["HFunction"]["Properties"]["TracingConfig"] == {"Mode": "Active"}
