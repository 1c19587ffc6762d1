"""`aloft deploy --plan` on aws says what an update changes, old → new, environment values
masked (pure: plans over in-memory states)."""

from __future__ import annotations

from aloft.aws import steps as st
from aloft.aws.plan import plan_deploy
from aloft.aws.provider import as_plan_step
from tests.unit.aws.test_plan import BUILD, Art, Build, deployed, svc, want

BASE = {"app": "app:app", "memory": 256, "environment": {"DEBUG": "1", "TOKEN": "old"},
        "functions": {"hello": {"handler": "h.h", "events": [{"http": "GET /hello"}]},
                      "bye": {"handler": "h.b", "events": [{"http": "GET /bye"}]}}}


def test_an_update_shows_each_change_old_to_new_with_values_masked() -> None:
    before = deployed(want(svc(**BASE)))
    after = svc(**{**BASE, "memory": 512, "timeout": 60,
                   "environment": {"TOKEN": "s3cret-new", "API_URL": "https://x"},
                   "functions": {"hello": {"handler": "h.h", "events": [
                       {"http": "POST /hello"}, {"http": "GET /new"}]},
                       "bye": {"handler": "h.b", "events": [{"http": "GET /bye"}]}}})
    steps = plan_deploy(want(after, Build(Art(BUILD.code.path, 1, "d00d1e"), BUILD.layer)),
                        before)
    config = next(x for x in steps if isinstance(x, st.UpdateFunctionConfiguration)
                  and x.function == "shop-prod-app")
    assert "memory 256 → 512" in config.changes
    assert "timeout 30 → 60" in config.changes
    assert "environment +API_URL=***, ~TOKEN=***, -DEBUG" in config.changes
    assert "s3cret" not in config.changes and "old" not in config.changes
    code = next(x for x in steps if isinstance(x, st.UpdateFunctionCode))
    assert code.changes == "code c0de → d00d1e"
    api = next(x for x in steps if isinstance(x, st.UpdateHttpApi))
    assert api.changes == "routes +GET /new, +POST /hello, -GET /hello"
    shown = as_plan_step(config.to_dict())
    assert dict(shown.details) == {"changes": config.changes}  # not every setting it sends
    assert shown.fields["memory"] == 512  # --json keeps the instruction's own fields


def test_a_route_moved_to_another_function_says_so() -> None:
    before = deployed(want(svc(**BASE)))
    moved = svc(**{**BASE, "functions": {
        "hello": {"handler": "h.h", "events": [{"http": "GET /bye"}]},
        "bye": {"handler": "h.b"}}})
    api = next(x for x in plan_deploy(want(moved), before) if isinstance(x, st.UpdateHttpApi))
    assert api.changes == "routes ~GET /bye (bye → hello), -GET /hello"


def test_no_changes_plans_nothing() -> None:
    assert plan_deploy(want(svc(**BASE)), deployed(want(svc(**BASE)))) == []
