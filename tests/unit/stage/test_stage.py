"""The stage model (aloft.stage): names, rules, bindings, environment and grants, worked out
once from a Service and an Account (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aloft.config.models import Service
from aloft.errors import ConfigError
from aloft.plugins.builtin.keep_warm import with_keep_warm
from aloft.stage import Account, Stage, late, stage_of
from aloft.stage.functions import lambda_environment
from aloft.stage.records import Grant

ACCOUNT = Account("111122223333", "eu-west-1")


def service(**fields: Any) -> Service:
    data: dict[str, Any] = {"service": "shop", "stage": "dev", "root": Path("/tmp/shop")}
    data.update(fields)
    return with_keep_warm(Service.model_validate(data))


def stage(code_tasks: bool = True, account: Account = ACCOUNT, **fields: Any) -> Stage:
    return stage_of(service(**fields), account, tasks=code_tasks)


def grants(st: Stage, function: str, sid: str) -> list[Grant]:
    return [g for g in st.function(function).grants if g.sid == sid]


def test_functions_have_physical_names_cut_to_lambdas_limit() -> None:
    st = stage(app="app:app", functions={"worker": {"handler": "jobs.run"}})
    assert [(f.name, f.physical) for f in st.functions] == [
        ("app", "shop-dev-app"), ("worker", "shop-dev-worker")]
    assert st.function("worker").arn == \
        "arn:aws:lambda:eu-west-1:111122223333:function:shop-dev-worker"
    long = stage(functions={"f" + "x" * 62: {"handler": "jobs.run"}})
    assert len(long.functions[0].physical) == 64


def test_one_rule_name_for_every_schedule() -> None:
    st = stage(app="app:app", keep_warm=True, functions={
        "tick": {"handler": "jobs.tick", "events": [{"schedule": "rate(5 minutes)"}]},
        "report": {"handler": "jobs.report", "events": [
            {"schedule": "cron(0 12 * * ? *)"}, {"schedule": {"rate": "1 hour", "name": "hourly"}},
        ]}})
    assert {s.name: s.function for s in st.schedules} == {
        "shop-dev-keep-warm": "app", "shop-dev-tick-schedule": "tick",
        "shop-dev-report-schedule-0": "report", "shop-dev-hourly": "report"}
    warm = next(s for s in st.schedules if s.keep_warm)
    assert warm.input == '{"aloft": "keep_warm"}' and warm.expression == "rate(4 minutes)"


def test_two_rules_of_one_name_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="named 'shop-dev-nightly'"):
        stage(functions={"a": {"handler": "j.a", "events": [
            {"schedule": {"rate": "1 day", "name": "nightly"}},
            {"schedule": {"rate": "2 days", "name": "nightly"}}]}})


def test_routes_put_events_before_the_apps_catch_all() -> None:
    st = stage(app="app:app", functions={"hook": {"handler": "h.hook", "events": [
        {"http": {"method": "post", "path": "/hooks/{id}", "cors": False}}]}})
    assert [(r.key, r.function, r.cors) for r in st.routes] == [
        ("POST /hooks/{id}", "hook", False), ("ANY /", "app", None),
        ("ANY /{proxy+}", "app", None)]


def test_bindings_name_their_source_and_its_arn() -> None:
    st = stage(resources={"queues": {"jobs": {"fifo": True}},
                          "tables": {"items": {"stream": True}}, "buckets": {"Uploads": {}}},
               functions={"w": {"handler": "h.w", "events": [
                   {"queue": "jobs"}, {"stream": {"table": "items"}},
                   {"stream": {"kinesis": "clicks"}}, {"bucket": "Uploads"},
                   {"topic": "arn:aws:sns:eu-west-1:1:theirs"}]}})
    got = {b.kind + ":" + b.stream_type if b.kind == "stream" else b.kind: (b.source, b.arn)
           for b in st.bindings}
    assert got == {
        "queue": ("shop-dev-jobs.fifo", "arn:aws:sqs:eu-west-1:111122223333:shop-dev-jobs.fifo"),
        "stream:dynamodb": ("shop-dev-items", "${stream:shop-dev-items}"),
        "stream:kinesis": ("clicks", "arn:aws:kinesis:eu-west-1:111122223333:stream/clicks"),
        "bucket": ("shop-dev-uploads", "arn:aws:s3:::shop-dev-uploads"),
        "topic": ("arn:aws:sns:eu-west-1:1:theirs", "arn:aws:sns:eu-west-1:1:theirs"),
    }


def test_a_stream_event_on_a_table_without_a_stream_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        stage(resources={"tables": {"items": {}}},
              functions={"w": {"handler": "h.w", "events": [{"stream": {"table": "items"}}]}})
    assert caught.value.where is not None
    assert caught.value.where.key_path == "functions.w.events[0].stream"


def test_cloudformation_values_resolve_to_the_stages_names() -> None:
    st = stage(
        functions={"w": {"handler": "h.w", "environment": {
            "URL": {"Ref": "Jobs"}, "ARN": {"Fn::GetAtt": ["Jobs", "Arn"]},
            "STREAM": {"Fn::GetAtt": ["Items", "StreamArn"]},
            "REGION": {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}"},
            "SHARED": {"Fn::ImportValue": "shared-bus"},
            "FN": {"Fn::GetAtt": ["WLambdaFunction", "Arn"]},
            "GONE": {"Ref": "AWS::NoValue"}},
            "events": [{"queue": {"name": {"Fn::GetAtt": ["Jobs", "Arn"]}}}]}},
        resources={"queues": {"Jobs": {}}, "tables": {"Items": {"stream": True}}})
    env = st.function("w").env
    assert env["URL"] == "https://sqs.eu-west-1.amazonaws.com/111122223333/shop-dev-Jobs"
    assert env["ARN"] == "arn:aws:sqs:eu-west-1:111122223333:shop-dev-Jobs"
    assert env["STREAM"] == late.late(late.STREAM, "shop-dev-Items")
    assert env["REGION"] == "eu-west-1/111122223333"
    assert env["SHARED"] == "${export:shared-bus}"
    assert env["FN"] == "arn:aws:lambda:eu-west-1:111122223333:function:shop-dev-w"
    assert "GONE" not in env
    assert env["ALOFT_QUEUE_JOBS_URL"] == env["URL"] and env["ALOFT_FUNCTION"] == "w"
    assert st.bindings[0].source == env["ARN"]
    local = stage_of(service(resources={"queues": {"Jobs": {}}}, functions={"w": {
        "handler": "h.w", "environment": {"URL": {"Ref": "Jobs"}}}}),
        Account("123456789012", "us-east-1", endpoint="http://127.0.0.1:9"))
    assert local.function("w").env["URL"] == "http://127.0.0.1:9/123456789012/shop-dev-Jobs"


def test_invoke_is_granted_only_for_tasks_destinations_and_dead_letters() -> None:
    fields: dict[str, Any] = {"functions": {"w": {"handler": "h.w"}, "audit": {"handler": "h.a"}}}
    assert not grants(stage(code_tasks=False, **fields), "w", "Tasks")
    (task,) = grants(stage(code_tasks=True, **fields), "w", "Tasks")
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:shop-dev-w"
    assert task.resources == (arn, arn + ":*") and task.actions == ("lambda:InvokeFunction",)
    elsewhere = stage(code_tasks=True, **{**fields, "tasks": {"function": "audit"}})
    assert grants(elsewhere, "w", "Tasks")[0].resources[0].endswith(":function:shop-dev-audit")
    sent = stage(code_tasks=False, resources={"queues": {"failed": {}}}, functions={
        "w": {"handler": "h.w", "dead_letter": "failed",
              "destinations": {"on_success": "audit"}},
        "audit": {"handler": "h.a"}})
    assert [(g.actions, g.resources) for g in grants(sent, "w", "DestinationsLambda")] == [
        (("lambda:InvokeFunction",), ("arn:aws:lambda:eu-west-1:111122223333:function:"
                                      "shop-dev-audit",))]
    assert grants(sent, "w", "DeadLetterSqs")[0].actions == ("sqs:SendMessage",)
    assert sent.function("w").async_settings.on_success is not None


def test_secrets_read_the_stage_parameters_decrypted_with_the_stage_key_only() -> None:
    st = stage(functions={"reader": {"handler": "h.r", "secrets": ["TOKEN"]},
                          "other": {"handler": "h.o"}},
               resources={"parameters": {"greeting": "hello"}})
    (params,) = grants(st, "reader", "Parameters")
    assert params.actions == ("ssm:GetParameter*",)
    assert params.resources == ("arn:aws:ssm:eu-west-1:111122223333:parameter/shop/dev/greeting",
                                "arn:aws:ssm:eu-west-1:111122223333:parameter/shop/dev/TOKEN")
    (decrypt,) = grants(st, "reader", "Decrypt")
    assert decrypt.resources == ("${secret_key}",)  # the key's ARN, filled by the provider
    assert {(c.key, c.values) for c in decrypt.conditions} == {
        ("kms:ViaService", ("ssm.eu-west-1.amazonaws.com",))}
    assert grants(st, "other", "Parameters")[0].resources == params.resources[:1]
    assert not grants(st, "other", "Decrypt")  # a plain parameter needs no key
    assert not grants(stage(functions={"f": {"handler": "h.f"}}), "f", "Decrypt")
    secure = stage(functions={"f": {"handler": "h.f"}},
                   resources={"parameters": {"k": {"value": "v", "secure": True}}})
    assert grants(secure, "f", "Decrypt")[0].resources == ("${secret_key}",)


def test_permissions_resolve_and_the_service_ones_reach_every_function() -> None:
    st = stage(app="app:app",
               permissions=[{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}],
               functions={"w": {"handler": "h.w", "permissions": [
                   {"Effect": "Deny", "Action": "dynamodb:*",
                    "Resource": {"Fn::GetAtt": ["Items", "StreamArn"]}}]}},
               resources={"tables": {"Items": {"stream": True}}})
    app = [(g.effect, g.resources) for g in grants(st, "app", "User")]
    w = [(g.effect, g.resources) for g in grants(st, "w", "User")]
    assert app == [("Allow", ("arn:aws:s3:::x/*",))]
    assert w == [("Allow", ("arn:aws:s3:::x/*",)), (
        "Deny", ("arn:aws:dynamodb:eu-west-1:111122223333:table/shop-dev-Items/stream/*",))]


def test_a_value_naming_nothing_is_a_config_error_where_it_was_written() -> None:
    svc = service(functions={"w": {"handler": "h.w", "environment": {
        "X": {"Fn::Select": [5, ["a"]]}}}})
    with pytest.raises(ConfigError) as caught:
        stage_of(svc, ACCOUNT)
    assert caught.value.where is not None
    assert caught.value.where.key_path == "functions.w.environment.X"


def test_the_stage_is_plain_frozen_data() -> None:
    st = stage(app="app:app")
    with pytest.raises(AttributeError):
        st.service = "other"  # type: ignore[misc]
    assert stage(app="app:app") == st


def test_lambdas_own_environment_has_awss_values() -> None:
    st = stage(runtime="3.12", memory=1024, functions={"w": {"handler": "w.run"}})
    env = lambda_environment(st.function("w"), "eu-west-1", version="7",
                             task_root="/var/task", log_stream="2026/01/01/[7]ab",
                             runtime_dir="/var/runtime")
    assert env["_HANDLER"] == "aloft.runtime.handler.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert (env["TZ"], env["LANG"]) == (":UTC", "en_US.UTF-8")
    assert env["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    assert env["LD_LIBRARY_PATH"] == ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:"
                                      "/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")
    assert (env["LAMBDA_TASK_ROOT"], env["LAMBDA_RUNTIME_DIR"]) == ("/var/task", "/var/runtime")
    assert "AWS_LAMBDA_LOG_FORMAT" not in env and "AWS_LAMBDA_LOG_LEVEL" not in env


def test_log_format_and_level_are_lambdas_logging_config() -> None:
    st = stage(log_format="JSON", functions={"a": {"handler": "a.run"},
                                             "b": {"handler": "b.run", "log_level": "debug"},
                                             "c": {"handler": "c.run", "log_format": "text"}})
    a, b, c = (st.function(n) for n in "abc")
    assert (a.log_format, a.log_level) == ("json", "INFO")  # Lambda's default with JSON
    assert (b.log_format, b.log_level) == ("json", "DEBUG")
    assert (c.log_format, c.log_level, c.ephemeral_storage) == ("text", None, 512)
    env = lambda_environment(b, "r", version="1", task_root="t", log_stream="l")
    assert (env["AWS_LAMBDA_LOG_FORMAT"], env["AWS_LAMBDA_LOG_LEVEL"]) == ("JSON", "DEBUG")


def test_a_log_level_without_the_json_format_is_refused_as_on_lambda() -> None:
    with pytest.raises(ConfigError) as err:
        stage(functions={"w": {"handler": "w.run", "log_level": "INFO"}})
    assert "log_format: json" in str(err.value)
    assert err.value.where is not None and "log_level" in (err.value.where.key_path or "")
