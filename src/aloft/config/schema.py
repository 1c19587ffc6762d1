"""The JSON Schema of aloft.yml, for `aloft schema` and editors.

pydantic describes the long form of each setting; the shorthands its validators accept
(`queue: jobs`, `schedule: "rate(5 minutes)"`, `keep_warm: true`, `uploads:` with no value) are
added here so that a valid aloft.yml validates against the schema too.
"""

from __future__ import annotations

import copy
from typing import Any

from aloft.config.models import ConfigFile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TEXT = {"type": "string"}
_SHORTHANDS: dict[str, list[dict[str, Any]]] = {
    "HttpEvent": [{**_TEXT, "description": "`METHOD /path`, e.g. `GET /items/{id}`."}],
    "ScheduleEvent": [{**_TEXT, "description": "`rate(5 minutes)` or `cron(0 12 * * ? *)`."}],
    "QueueEvent": [{**_TEXT, "description": "The queue resource's key, or a queue ARN."}],
    "TopicEvent": [{**_TEXT, "description": "The topic resource's key, or a topic ARN."}],
    "BucketEvent": [{**_TEXT, "description": "The bucket resource's key, or a bucket name."}],
    "StreamEvent": [{**_TEXT, "description": "A DynamoDB table or Kinesis stream ARN."}],
    "KeepWarm": [
        {"type": "boolean", "description": "Ping every 4 minutes (true) or never (false)."},
        {"type": "integer", "description": "Ping every N minutes."},
        {**_TEXT, "description": "A rate such as `5 minutes`."},
    ],
    "Cors": [
        {"type": "boolean", "description": "Allow every origin (true) or no CORS (false)."},
        {**_TEXT, "description": "The one allowed origin."},
    ],
    "ParameterResource": [{"type": ["string", "number"], "description": "The value."}],
}
_EXTRA_KEYS: dict[str, dict[str, dict[str, Any]]] = {
    "ScheduleEvent": {
        "expression": {**_TEXT, "description": "`rate(...)` or `cron(...)` instead of rate/cron."},
    },
    "StreamEvent": {
        "table": {**_TEXT, "description": "A DynamoDB table resource's key (sets type)."},
        "kinesis": {**_TEXT, "description": "A Kinesis stream name or ARN (sets type)."},
        "arn": {**_TEXT, "description": "The stream's ARN (type from the ARN)."},
    },
}
_REQUIRED_DROPPED = {"StreamEvent": "name"}


def json_schema() -> dict[str, Any]:
    """The schema of aloft.yml as written (`ConfigFile`), with each key's description."""
    schema = copy.deepcopy(ConfigFile.model_json_schema(mode="validation"))
    defs: dict[str, Any] = schema.get("$defs", {})
    for name, keys in _EXTRA_KEYS.items():
        defs[name]["properties"].update(keys)
    for name, key in _REQUIRED_DROPPED.items():
        defs[name]["required"] = [k for k in defs[name].get("required", []) if k != key]
    for name, forms in _SHORTHANDS.items():
        long_form = defs[name]
        defs[name] = {"description": long_form.get("description", ""),
                      "anyOf": [long_form, *forms]}
    resources = defs["Resources"]["properties"]
    for entry in resources.values():
        # `uploads:` with no value means all defaults
        entry["additionalProperties"] = {"anyOf": [entry["additionalProperties"],
                                                   {"type": "null"}]}
    # `x-...` keys are the user's own values, for variables and YAML anchors
    schema["patternProperties"] = {"^x-": {"description": "Your own values (ignored by aloft)."}}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "aloft.yml",
        **{k: v for k, v in schema.items() if k != "title"},
    }
