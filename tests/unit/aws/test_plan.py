"""Planning over in-memory states: no AWS, no moto."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.desired import desired
from aloft.aws.names import Account, Names
from aloft.aws.plan import fill, plan_deploy, plan_undeploy
from aloft.aws.state import ActualApi, ActualFunction, ActualMapping, ActualState
from aloft.config.models import Service
from aloft.plugins.builtin.keep_warm import with_keep_warm


@dataclasses.dataclass(frozen=True)
class Art:
    path: Path
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class Build:
    code: Art
    layer: Art | None
    tasks: bool = True  # the code calls @aloft.task


ACCOUNT = Account("111122223333", "eu-west-1")
BUILD = Build(Art(Path("code.zip"), 20_000, "c0de"), Art(Path("layer.zip"), 9_000_000, "1a7e"))


def svc(**fields: Any) -> Service:
    return with_keep_warm(  # keep-warm is a built-in plugin: it adds the schedule to the model
        Service.model_validate({"service": "shop", "stage": "prod", "root": Path("/tmp"),
                                "provider": "aws", "runtime": "3.12", **fields}))


def want(service: Service, build: Build = BUILD) -> s.Desired:
    return desired(service, build, Names.of(service, ACCOUNT))


def deployed(d: s.Desired) -> ActualState:
    """The state AWS would hold right after `d` was applied (refs resolved to real values)."""
    refs = {"layer": "arn:aws:lambda:eu-west-1:111122223333:layer:shop-prod-deps:1",
            "api": "abc123"}
    d = fill(d, refs)
    functions = {f.name: ActualFunction(
        f.name, f.physical, f.config, f.architecture, f.code_sha256, "1", f.concurrency,
        f.async_config, f.url, frozenset(p.sid for p in d.permissions if p.function == f.name))
        for f in d.functions}
    return ActualState(
        bucket_exists=True, objects=frozenset({d.code_key, d.layer_key or ""}),
        layers=((refs["layer"], d.layer_sha256 or ""),),
        roles={r.name: r.policy for r in d.roles}, functions=functions,
        api=ActualApi(d.api.kind, "abc123", d.api.routes, d.api.cors) if d.api else None,
        rules={r.name: r for r in d.rules},
        mappings=tuple(ActualMapping(f"uuid-{i}", m) for i, m in enumerate(d.mappings)),
        notifications=dict(d.notifications), resources=d.resources,
        log_groups=dict(d.log_groups), refs=refs)


def ops(steps: list[st.Step]) -> list[str]:
    return [x.op for x in steps]


APP = svc(app="app:app", keep_warm=True,
          functions={"jobs": {"handler": "j.run", "events": [{"queue": "q"}]}},
          resources={"queues": {"q": {}}})


def test_from_nothing_creates_in_dependency_order() -> None:
    plan = ops(plan_deploy(want(APP), ActualState()))
    order = ["CreateDeploymentBucket", "UploadObject", "PublishLayer", "CreateRole",
             "PutRolePolicy", "CreateQueue", "CreateLogGroup", "CreateFunction", "PublishVersion",
             "CreateAlias", "CreateApi", "AddPermission", "PutRule", "CreateEventSourceMapping",
             "WriteState"]
    positions = [plan.index(o) for o in order]
    assert positions == sorted(positions)
    assert plan.count("CreateFunction") == 2 and plan.count("UploadObject") == 2


def test_unchanged_stage_plans_nothing() -> None:
    d = want(APP)
    assert plan_deploy(d, deployed(d)) == []


def test_code_change_only_touches_code_versions_and_aliases() -> None:
    before = deployed(want(APP))
    changed = Build(Art(Path("code.zip"), 21_000, "beef"), BUILD.layer)
    plan = plan_deploy(want(APP, changed), before)
    assert ops(plan) == ["UploadObject", "UpdateFunctionCode", "PublishVersion", "HealthCheck",
                         "UpdateFunctionCode", "PublishVersion", "HealthCheck", "UpdateAlias",
                         "UpdateAlias", "WriteState"]
    upload = plan[0]
    assert isinstance(upload, st.UploadObject) and upload.size == 21_000
    alias = plan[7]
    assert isinstance(alias, st.UpdateAlias) and alias.version is None and alias.previous == "1"


def test_changed_dependencies_publish_a_new_layer_and_update_configuration() -> None:
    before = deployed(want(APP))
    new_deps = Build(BUILD.code, Art(Path("layer.zip"), 9_100_000, "fee1"))
    plan = plan_deploy(want(APP, new_deps), before)
    assert ops(plan)[:2] == ["UploadObject", "PublishLayer"]
    update = next(x for x in plan if isinstance(x, st.UpdateFunctionConfiguration))
    assert update.config.layers == ("${layer}",)  # resolved when the layer is published
    assert "UpdateFunctionCode" not in ops(plan)


def test_memory_change_is_a_configuration_update() -> None:
    before = deployed(want(APP))
    plan = plan_deploy(want(svc(**{**APP.model_dump(include={"app", "keep_warm", "functions",
                                                               "resources"}), "memory": 1024})),
                       before)
    assert ops(plan).count("UpdateFunctionConfiguration") == 2
    assert "UpdateFunctionCode" not in ops(plan)


def test_removing_a_function_removes_its_triggers() -> None:
    before = deployed(want(APP))
    plan = plan_deploy(want(svc(app="app:app", keep_warm=True, resources={"queues": {"q": {}}})),
                       before)
    assert "DeleteEventSourceMapping" in ops(plan)
    assert st.DeleteFunction("shop-prod-jobs") in plan
    assert st.DeleteLogGroup("/aws/lambda/shop-prod-jobs") in plan


def test_batch_size_change_updates_the_mapping_in_place() -> None:
    before = deployed(want(APP))
    more = svc(app="app:app", keep_warm=True, resources={"queues": {"q": {}}},
               functions={"jobs": {"handler": "j.run",
                                   "events": [{"queue": {"name": "q", "batch_size": 3}}]}})
    plan = plan_deploy(want(more), before)
    update = [x for x in plan if isinstance(x, st.UpdateEventSourceMapping)]
    assert len(update) == 1 and update[0].uuid == "uuid-0" and update[0].spec.batch_size == 3
    assert "CreateEventSourceMapping" not in ops(plan)


def test_disabled_keep_warm_deletes_its_rule_and_permission() -> None:
    before = deployed(want(APP))
    cold = svc(**{**APP.model_dump(include={"app", "functions", "resources"}),
                  "keep_warm": False})
    plan = plan_deploy(want(cold), before)
    assert st.DeleteRule("shop-prod-keep-warm") in plan
    assert any(isinstance(x, st.RemovePermission) and x.sid.startswith("aloft-rule-")
               for x in plan)


def test_switching_to_rest_replaces_the_api() -> None:
    before = deployed(want(APP))
    rest = APP.model_copy(update={"aws": APP.aws.model_copy(update={"api": "rest"})})
    plan = plan_deploy(want(rest), before)
    assert ops(plan).index("DeleteApi") < ops(plan).index("CreateApi")
    assert any(isinstance(x, st.AddPermission) and x.permission.sid == "aloft-api" for x in plan)


def test_existing_bucket_is_used_not_created() -> None:
    own = svc(app="app:app", aws={"bucket": "team-artifacts"})
    plan = plan_deploy(want(own), ActualState())
    assert "CreateDeploymentBucket" not in ops(plan)
    assert all(x.bucket == "team-artifacts" for x in plan if isinstance(x, st.UploadObject))
    undo = plan_undeploy(want(own), dataclasses.replace(deployed(want(own)),
                                                        bucket_exists=True))
    assert st.DeleteObjects("team-artifacts", "aloft/shop/prod/") in undo
    assert not any(isinstance(x, st.DeleteBucket) and x.bucket == "team-artifacts" for x in undo)


def test_undeploy_deletes_triggers_before_functions_and_everything_after() -> None:
    d = want(APP)
    plan = ops(plan_undeploy(d, deployed(d)))
    assert plan.index("DeleteApi") < plan.index("DeleteFunction")
    assert plan.index("DeleteEventSourceMapping") < plan.index("DeleteFunction")
    for op in ("DeleteRule", "DeleteLayerVersion", "DeleteRole", "DeleteQueue", "DeleteBucket",
               "DeleteLogGroup"):
        assert op in plan
    assert plan_undeploy(d, ActualState()) == []


def test_plan_steps_print_as_data() -> None:
    plan = plan_deploy(want(APP), ActualState())
    first = plan[0].to_dict()
    assert first["op"] == "CreateDeploymentBucket"
    assert first["resource"] == "aloft-shop-prod-111122223333-eu-west-1"
    create = next(x for x in plan if isinstance(x, st.CreateFunction)).to_dict()
    assert create["resource"] == "shop-prod-app" and create["memory"] == 512
    policy = next(x for x in plan if isinstance(x, st.PutRolePolicy)).to_dict()
    assert policy["document"].endswith(" chars>")


def _static_stage(tmp_path: Path, **static: Any) -> s.Desired:
    (tmp_path / "static").mkdir(exist_ok=True)
    (tmp_path / "static" / "a.css").write_text("a{}")
    (tmp_path / "static" / "b.js").write_text("b()")
    return want(svc(app="app:app", root=tmp_path, static={"path": "/s", **static}))


def test_static_files_sync_by_etag_and_a_renamed_bucket_replaces_the_old(
    tmp_path: Path
) -> None:
    d = _static_stage(tmp_path)
    assert d.static is not None
    files = {f.key: f.md5 for f in d.static.files}
    synced = dataclasses.replace(deployed(d), static_bucket=d.static.bucket,
                                 static_objects={**files, "old.png": "e7"},
                                 refs={**deployed(d).refs, "static-referer": "secret"})
    plan = plan_deploy(d, synced)
    assert ops(plan) == ["SyncStatic", "WriteState"]
    sync = plan[0]
    assert isinstance(sync, st.SyncStatic) and sync.upload == () and sync.delete == ("old.png",)

    moved = _static_stage(tmp_path, bucket="shop-assets")
    plan = plan_deploy(moved, synced)
    assert ops(plan)[:2] == ["CreateStaticBucket", "SyncStatic"]
    assert st.DeleteBucket(d.static.bucket) in plan
    assert [x.subject for x in plan_undeploy(d, synced) if isinstance(x, st.DeleteBucket)] == [
        d.static.bucket, d.bucket]
