"""Two http events for one method and path are refused when the stage loads, at the second's
line, naming the first (API Gateway refuses them; parameter names do not make routes differ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.config.duplicate_routes import route_shape
from aloft.errors import ConfigError

CONFIG = """service: shop
functions:
  read:
    handler: h.read
    events:
      - http: GET /items/{id}
  write:
    handler: h.write
    events:
      - http: POST /items
      - http:
          method: get
          path: /items/{item}/
"""


def test_a_route_written_twice_is_an_error_at_the_second(tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text(CONFIG)
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path, env={}).service("dev")
    error = caught.value
    assert error.where is not None and error.where.line == 12
    assert error.where.key_path == "functions.write.events[1].http"
    assert error.message == (
        "route `GET /items/{item}/` is also `functions.read.events[0].http` (line 6): API "
        "Gateway refuses two routes for one method and path")


def test_other_methods_and_paths_are_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text(CONFIG.replace("method: get", "method: put"))
    service = load_project(tmp_path, env={}).service("dev")
    assert service.functions["write"].events[1].http is not None


def test_route_shape() -> None:
    assert route_shape("GET", "/items/{id}") == route_shape("GET", "/items/{item_id}/")
    assert route_shape("GET", "/{proxy+}") == ("GET", "/{+}")
    assert route_shape("GET", "/") == ("GET", "/")
    assert route_shape("ANY", "/x") != route_shape("GET", "/x")
