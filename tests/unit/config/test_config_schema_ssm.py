"""json_schema() for `aloft schema`, and the `${ssm:...}` helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from aloft.config import json_schema, load_service, resolve_ssm, ssm_references

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"


def _descriptions(node: Any) -> int:
    if isinstance(node, dict):
        return ("description" in node) + sum(_descriptions(v) for v in node.values())
    if isinstance(node, list):
        return sum(_descriptions(v) for v in node)
    return 0


def test_schema_is_json_with_descriptions() -> None:
    schema = json_schema()
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"].startswith("https://json-schema.org/")
    props = schema["properties"]
    for key in ("service", "app", "functions", "stages", "resources", "memory", "aws"):
        assert key in props
    assert props["service"]["description"]
    assert props["stages"]["description"]
    assert _descriptions(schema) > 40


def test_schema_is_valid_and_accepts_the_fixture() -> None:
    import jsonschema
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    data = yaml.safe_load((FIXTURES / "aloft_shop" / "aloft.yml").read_text())
    data.pop("environment")  # variables: plain strings either way
    assert list(validator.iter_errors(data)) == []
    data["memroy"] = 1
    assert [e.validator for e in validator.iter_errors(data)] == ["additionalProperties"]


def test_ssm_references_and_resolution(tmp_path: Path) -> None:
    path = tmp_path / "aloft.yml"
    path.write_text(
        "service: api\napp: app:app\nenvironment:\n  TOKEN: ${ssm:/api/${stage}/token}\n"
        "  URL: postgres://u:${ssm:/api/db-password}@db/app\n"
        "functions:\n  f:\n    handler: f.run\n    environment:\n      K: ${ssm:/api/db-password}\n"
    )
    svc = load_service(path, env={})
    assert ssm_references(svc) == ["/api/dev/token", "/api/db-password"]
    asked: list[str] = []

    def resolve(name: str) -> str:
        asked.append(name)
        return f"<{name.rsplit('/', 1)[-1]}>"

    resolved = resolve_ssm(svc, resolve)
    assert resolved.environment == {"TOKEN": "<token>", "URL": "postgres://u:<db-password>@db/app"}
    assert resolved.functions["f"].environment == {"K": "<db-password>"}
    assert asked == ["/api/dev/token", "/api/db-password"]  # each parameter once
    assert ssm_references(resolved) == []
    assert svc.environment["TOKEN"] == "${ssm:/api/dev/token}"  # the original is unchanged


def test_schema_allows_own_x_keys() -> None:
    import jsonschema
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors({"service": "a", "app": "a:app", "x-mine": {"a": 1}})) == []
