"""Deploy planning over in-memory state: what is published, kept, removed, scheduled."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.local.deploy import instructions
from aloft.local.deploy.plan import (
    CurrentFunction,
    CurrentSchedule,
    CurrentStage,
    config_hash,
    desired_api_auth,
    desired_routes,
    desired_schedules,
)
from aloft.local.deploy.plan import plan_deploy as typed_plan
from aloft.local.provider import as_plan_step
from aloft.local.services.account import local_stage
from aloft.local.store.registry import stage_routes
from aloft.local.store.state import Deployment
from aloft.plugins.builtin.keep_warm import with_keep_warm
from aloft.stage.functions import LAMBDA_VARIABLES, lambda_environment
from aloft.stage.names import function_name

CODE = "a" * 64
CODE2 = "b" * 64
LAYER = "c" * 64


def service(**extra: Any) -> Service:
    data: dict[str, Any] = {"service": "shop", "stage": "dev", "root": Path("/tmp/shop"),
                            "app": "app:app"}
    data.update(extra)
    return with_keep_warm(Service.model_validate(data))  # keep-warm is a built-in plugin


def plan_deploy(svc: Service, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """The plan's instructions in their plain form (what `--plan` prints)."""
    return instructions.describe(typed_plan(svc, *args, **kwargs))


def is_noop(plan: list[dict[str, Any]]) -> bool:
    return all(i["action"] == "keep" for i in plan)


def deployed(svc: Service, code: str = CODE, layer: str | None = LAYER) -> CurrentStage:
    """The state right after deploying `svc` once."""
    plan = plan_deploy(svc, code, layer, CurrentStage())
    functions = {
        i["name"]: CurrentFunction(i["version"], i["config_hash"], code, layer)
        for i in plan if i["action"] == "publish"
    }
    latest = {function_name(svc.service, svc.stage, n): f.version for n, f in functions.items()}
    schedules = {
        s.name: CurrentSchedule(s.physical, s.expression, s.input, s.kind)
        for s in desired_schedules(local_stage(svc))
    }
    return CurrentStage(functions, latest, desired_routes(local_stage(svc)), schedules,
                        deployed=True)


def actions(plan: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["action"], i["name"]) for i in plan]


def test_first_deploy_publishes_checks_routes_and_switches() -> None:
    plan = plan_deploy(service(), CODE, LAYER, CurrentStage())
    assert actions(plan) == [
        ("publish", "app"), ("health_check", "app"), ("routes", "/shop/dev"),
        ("switch_alias", "dev"),
    ]
    publish = plan[0]
    assert publish["function"] == "shop-dev-app" and publish["version"] == 1
    assert publish["reason"] == "new function"
    assert plan[1]["path"] == "/"
    assert plan[-1]["functions"] == {"app": 1}


def test_unchanged_redeploy_is_a_noop() -> None:
    svc = service()
    plan = plan_deploy(svc, CODE, LAYER, deployed(svc))
    assert actions(plan) == [("keep", "app")]
    assert is_noop(plan)


def test_code_change_publishes_the_next_version() -> None:
    svc = service()
    plan = plan_deploy(svc, CODE2, LAYER, deployed(svc))
    assert actions(plan) == [("publish", "app"), ("health_check", "app"),
                             ("switch_alias", "dev")]
    assert plan[0]["version"] == 2 and plan[0]["reason"] == "code changed"


def test_config_change_publishes_with_its_reason() -> None:
    before = service()
    after = service(memory=1024)
    plan = plan_deploy(after, CODE, LAYER, deployed(before))
    assert plan[0]["action"] == "publish"
    assert plan[0]["reason"] == "configuration changed"  # what it was published with: unknown
    layer_plan = plan_deploy(before, CODE, None, deployed(before))
    assert layer_plan[0]["reason"] == "dependencies changed"


def test_a_publish_says_each_setting_old_to_new_with_values_masked() -> None:
    before = service(memory=256, environment={"DEBUG": "1", "TOKEN": "old"})
    stage = local_stage(before)
    fn = stage.function("app")
    published = {"memory": 256, "timeout": fn.timeout, "concurrency": None,
                 "environment": {**dict(fn.environment), "AWS_REGION": "us-east-1",
                                 "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "PATH": "/bin"}}
    current = deployed(before)
    current = dataclasses.replace(current, functions={"app": dataclasses.replace(
        current.functions["app"], settings=published)})
    after = service(memory=512, environment={"TOKEN": "s3cret", "API_URL": "https://x"},
                    functions={"api": {"handler": "h.h", "events": [{"http": "GET /api"}]}})
    plan = plan_deploy(after, CODE2, LAYER, current)
    reason = plan[0]["reason"]
    assert reason == ("code changed; memory 256 → 512; "
                      "environment +API_URL=***, ~TOKEN=***, -DEBUG")
    routes = next(x for x in plan if x["action"] == "routes")
    assert routes["changes"] == "+GET /api"
    step = as_plan_step(routes)
    assert dict(step.details) == {"changes": "+GET /api"}
    same = plan_deploy(before, CODE, LAYER, current)
    assert is_noop(same)


def test_the_lambda_variables_are_named_once() -> None:
    stage = local_stage(service(log_format="json", log_level="DEBUG"))
    env = lambda_environment(stage.function("app"), "r", version="1", task_root="t",
                             log_stream="l")
    assert set(env) <= set(LAMBDA_VARIABLES)


def test_a_new_platform_port_publishes_new_versions() -> None:
    """AWS_ENDPOINT_URL_LAMBDA names the daemon's port: a version must not keep a stale one."""
    svc = service()
    before = plan_deploy(svc, CODE, LAYER, CurrentStage(), platform={"port": 8750})
    current = CurrentStage({"app": CurrentFunction(1, before[0]["config_hash"], CODE, LAYER)},
                           {"shop-dev-app": 1}, desired_routes(local_stage(svc)), {}, deployed=True)
    assert is_noop(plan_deploy(svc, CODE, LAYER, current, platform={"port": 8750}))
    moved = plan_deploy(svc, CODE, LAYER, current, platform={"port": 9000})
    assert moved[0]["action"] == "publish" and moved[0]["reason"] == "configuration changed"


def test_version_numbers_continue_after_the_latest_published() -> None:
    svc = service()
    current = deployed(svc)
    current = CurrentStage(current.functions, {"shop-dev-app": 7}, current.routes,
                           current.schedules, deployed=True)
    plan = plan_deploy(svc, CODE2, LAYER, current)
    assert plan[0]["version"] == 8


def test_only_changed_functions_are_published() -> None:
    before = service(functions={"worker": {"handler": "jobs.run"}})
    after = service(functions={"worker": {"handler": "jobs.run", "timeout": 60}})
    plan = plan_deploy(after, CODE, LAYER, deployed(before))
    assert ("keep", "app") in actions(plan)
    assert ("publish", "worker") in actions(plan)
    assert ("health_check", "app") not in actions(plan)
    switch = plan[-1]
    assert switch["action"] == "switch_alias" and switch["functions"] == {"app": 1, "worker": 2}


def test_removed_function_and_its_schedule_leave() -> None:
    before = service(functions={"tick": {"handler": "jobs.tick",
                                         "events": [{"schedule": "rate(5 minutes)"}]}})
    plan = plan_deploy(service(), CODE, LAYER, deployed(before))
    assert ("remove", "tick") in actions(plan)
    assert ("schedule_remove", "shop-dev-tick-schedule") in actions(plan)


def test_http_routes_come_before_the_app_catch_all() -> None:
    svc = service(functions={"hook": {"handler": "hooks.handle",
                                      "events": [{"http": "POST /hooks/{id}"}]}})
    assert desired_routes(local_stage(svc)) == [
        {"method": "POST", "path": "/hooks/{id}", "function": "shop-dev-hook"},
        {"method": "ANY", "path": "/", "function": "shop-dev-app"},
        {"method": "ANY", "path": "/{proxy+}", "function": "shop-dev-app"},
    ]



def test_a_routes_own_cors_is_planned_and_reaches_the_gateway() -> None:
    hook = {"handler": "hooks.handle", "events": [{"http": "POST /hooks/{id}"}]}
    before = service(functions={"hook": hook})
    after = service(functions={"hook": {**hook, "events": [
        {"http": {"method": "post", "path": "/hooks/{id}", "cors": False}}]}})
    routes = desired_routes(local_stage(after))
    assert routes[0] == {"method": "POST", "path": "/hooks/{id}", "function": "shop-dev-hook",
                         "cors": False}
    assert "cors" not in desired_routes(local_stage(before))[0]  # unset: routes compare as before
    plan = plan_deploy(after, CODE, LAYER, deployed(before))
    assert [i["routes"] for i in plan if i["action"] == "routes"] == [routes]
    dep = Deployment(id=1, service="shop", stage="dev", number=1, functions={},
                     physical={}, routes=routes)
    stage = stage_routes(dep)
    assert [r.cors for r in stage.routes] == [False, None, None]
    assert stage.cors_overrides and not stage.extras

def test_authorizers_and_keys_are_planned_stored_and_read_back() -> None:
    auth = {"handler": "auth.handle"}
    hook = {"handler": "hooks.handle", "events": [
        {"http": {"method": "post", "path": "/hooks", "authorizer": "custom",
                  "private": True}}]}
    extra: dict[str, Any] = {
        "aws": {"api": "rest"}, "api_keys": ["partner"],
        "authorizers": {"custom": {"type": "token", "function": "auth"}}}
    before = service(functions={"auth": auth, "hook": {"handler": "hooks.handle",
                                                       "events": [{"http": "POST /hooks"}]}})
    after = service(functions={"auth": auth, "hook": hook}, **extra)
    current = deployed(before)
    plan = plan_deploy(after, CODE, LAYER, current)
    assert ("api_auth", "/shop/dev") in actions(plan)
    routes = desired_routes(local_stage(after))
    assert routes[0]["auth"] == {"authorizer": "custom", "scopes": [], "api_key": True}
    stored = desired_api_auth(local_stage(after))
    assert stored is not None and desired_api_auth(local_stage(before)) is None
    # redeploying the same: no change; a new ttl: a change
    same = CurrentStage(current.functions, current.latest, routes, current.schedules,
                        deployed=True, api_auth=stored)
    assert "api_auth" not in [a for a, _ in actions(plan_deploy(after, CODE, LAYER, same))]
    longer = service(functions={"auth": auth, "hook": hook}, **{**extra, "authorizers": {
        "custom": {"type": "token", "function": "auth", "ttl": 60}}})
    assert ("api_auth", "/shop/dev") in actions(plan_deploy(longer, CODE, LAYER, same))
    dep = Deployment(id=1, service="shop", stage="dev", number=1, functions={}, physical={},
                     routes=routes, extra={"api_auth": stored,
                                           "api_key_values": {"partner": "v" * 30}})
    stage = stage_routes(dep)
    assert stage.guarded and stage.extras
    assert stage.api_auth == local_stage(after).api_auth
    assert stage.routes[0].auth is not None and stage.routes[0].auth.api_key
    assert stage.api_key_values == {"partner": "v" * 30}


def test_schedules_with_input_and_keep_warm() -> None:
    svc = service(
        keep_warm={"rate": "3 minutes"},
        functions={"report": {"handler": "jobs.report", "events": [
            {"schedule": {"cron": "0 12 * * ? *", "input": {"kind": "daily"}}},
            {"schedule": {"rate": "1 hour", "name": "hourly"}},
        ]}},
    )
    plan = plan_deploy(svc, CODE, LAYER, CurrentStage())
    added = {i["name"]: i for i in plan if i["action"] == "schedule_add"}
    assert set(added) == {"shop-dev-report-schedule-0", "shop-dev-hourly", "shop-dev-keep-warm"}
    assert added["shop-dev-report-schedule-0"]["input"] == '{"kind": "daily"}'
    assert added["shop-dev-report-schedule-0"]["expression"] == "cron(0 12 * * ? *)"
    assert "input" not in added["shop-dev-hourly"]
    assert added["shop-dev-keep-warm"]["input"] == '{"aloft": "keep_warm"}'
    assert added["shop-dev-keep-warm"]["expression"] == "rate(3 minutes)"


def test_changed_schedule_is_updated() -> None:
    before = service(functions={"tick": {"handler": "jobs.tick",
                                         "events": [{"schedule": "rate(5 minutes)"}]}})
    after = service(functions={"tick": {"handler": "jobs.tick",
                                        "events": [{"schedule": "rate(10 minutes)"}]}})
    plan = plan_deploy(after, CODE, LAYER, deployed(before))
    update = [i for i in plan if i["action"] == "schedule_update"]
    assert update and update[0]["expression"] == "rate(10 minutes)"


def test_config_hash_ignores_nothing_an_instance_sees() -> None:
    svc = service(environment={"A": "1"})
    other = service(environment={"A": "2"})
    fn, fn2 = svc.function("app"), other.function("app")
    assert config_hash(fn, CODE, LAYER, svc, "app") != config_hash(fn2, CODE, LAYER, other, "app")
    assert config_hash(fn, CODE, LAYER, svc, "app") == config_hash(fn, CODE, LAYER, svc, "app")


def test_plan_is_plain_data() -> None:
    import json

    plan = plan_deploy(service(functions={"w": {"handler": "w.run"}}), CODE, None,
                       CurrentStage())
    assert json.loads(json.dumps(plan)) == plan


def test_schedules_named_by_the_old_local_rule_are_renamed_not_replaced() -> None:
    """Before the stage model the local cloud named an unnamed schedule `{function}`, then
    `{function}-2`, ...: a deploy renames those rules (the state keeps their fire times and
    `aloft unschedule`'s flag), it does not remove and add them."""
    svc = service(functions={"tick": {"handler": "jobs.tick", "events": [
        {"schedule": "rate(5 minutes)"}, {"schedule": "rate(1 hour)"},
        {"schedule": {"rate": "1 day", "name": "daily"}}]}})
    old = {"shop-dev-tick": CurrentSchedule("shop-dev-tick", "rate(5 minutes)", None, "schedule"),
           "shop-dev-tick-2": CurrentSchedule("shop-dev-tick", "rate(1 hour)", None, "schedule"),
           "shop-dev-daily": CurrentSchedule("shop-dev-tick", "rate(1 day)", None, "schedule")}
    current = deployed(svc)
    current = CurrentStage(current.functions, current.latest, current.routes, old,
                           deployed=True)
    plan = plan_deploy(svc, CODE, LAYER, current)
    renames = {i["name"]: i["renamed_from"] for i in plan if i["action"] == "schedule_rename"}
    assert renames == {"shop-dev-tick-schedule-0": "shop-dev-tick",
                       "shop-dev-tick-schedule-1": "shop-dev-tick-2"}
    assert not [i for i in plan if i["action"] in ("schedule_add", "schedule_remove")]
