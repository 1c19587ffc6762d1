"""A route's own `cors:` on an aws stage: refused at load time, at the line it was written on,
when AWS cannot express it; allowed on local stages (the local gateway applies it per route)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.config.route_cors import aws_api_cors, aws_conflict, default_cors
from aloft.errors import ConfigError

CONFIG = """\
service: shop
app: shop.app:app
cors: true
functions:
  hook:
    handler: shop.hooks.run
    events:
      - http: POST /hooks
      - http:
          path: /hooks/{id}
          method: get
          cors: false
stages:
  dev:
  prod:
    provider: aws
"""


def test_a_conflict_is_refused_on_aws_stages_only(write: Callable[..., Path]) -> None:
    project = load_project(write(CONFIG), env={})
    dev = project.service("dev")  # local: the gateway applies the route's cors: false
    assert dev.functions["hook"].events[1].http is not None
    with pytest.raises(ConfigError) as info:
        project.service("prod")
    text = str(info.value)
    assert "aloft.yml:12:" in text  # the `cors: false` line
    assert "functions.hook.events[1].http.cors" in text and "stage 'prod'" in text
    assert "route `GET /hooks/{id}` sets `cors: false`" in text
    assert info.value.fix and "remove the route's `cors: false`" in info.value.fix
    # `aloft deploy --provider aws` of the dev stage is refused the same way
    with pytest.raises(ConfigError, match="sets `cors: false`"):
        project.service("dev", options={"provider": "aws"})


def test_the_api_kind_decides(write: Callable[..., Path]) -> None:
    rest = CONFIG.replace("provider: aws", "provider: aws\n    aws: {api: rest}")
    project = load_project(write(rest), env={})
    assert aws_conflict(project.service("prod")) is None  # REST APIs leave CORS to the app


def test_default_cors_lists_the_routes_methods() -> None:
    assert default_cors(["GET", "POST", "GET"]).methods == ["GET", "POST", "OPTIONS"]
    assert default_cors(["GET", "ANY"]).methods == ["*"]
    assert default_cors(["PUT"], options=False).methods == ["PUT"]
    assert default_cors(["GET"]).origins == ["*"] and default_cors(["GET"]).headers == ["*"]


def test_without_overrides_the_api_has_the_services_cors(write: Callable[..., Path]) -> None:
    text = CONFIG.replace("          cors: false\n", "")
    service = load_project(write(text), env={}).service("prod")
    assert aws_api_cors(service) == service.cors
