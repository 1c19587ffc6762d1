"""serverless.yml: serverless-wsgi apps, function services with events and resources, params."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import Project, load_project, ssm_references
from aloft.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"
Write = Callable[..., Path]


@pytest.fixture
def notes() -> Project:
    return load_project(FIXTURES / "sls_wsgi", env={})


@pytest.fixture
def orders() -> Project:
    return load_project(FIXTURES / "sls_functions", env={})


def test_wsgi_service_becomes_an_app(notes: Project) -> None:
    assert notes.kind == "serverless" and notes.stages == ["dev"]
    svc = notes.service()
    assert svc.service == "flask-notes" and svc.stage == "dev"
    assert svc.app == "src.notes.app:app" and svc.functions == {}
    assert svc.runtime == "3.11" and svc.provider == "local"
    assert svc.memory == 512 and svc.timeout == 20  # the wsgi function's memory wins
    assert svc.aws.region == "eu-west-1" and svc.aws.log_retention_days == 30
    assert svc.environment == {
        "NOTES_TABLE": "flask-notes-dev-notes",
        "SECRET_KEY": "dev-secret",
        "API_TOKEN": "${ssm:/flask-notes/dev/api-token}",
    }
    assert ssm_references(svc) == ["/flask-notes/dev/api-token"]
    statement = svc.permissions[0]
    assert statement.action == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    assert statement.resource == ["arn:aws:dynamodb:*:*:table/flask-notes-dev-notes"]
    assert svc.cors.enabled
    assert svc.requirements == "requirements/prod.txt" and svc.slim is True
    assert svc.exclude == ["node_modules/**", "tests/**", ".venv/**"]
    table = svc.resources.tables["NotesTable"]
    assert (table.name, table.hash_key, table.range_key) == (
        "flask-notes-dev-notes", "user_id", "note_id")


def test_wsgi_warnings(notes: Project) -> None:
    assert any("dockerizePip" in w and "without Docker" in w for w in notes.warnings)
    assert not any("packRequirements" in w for w in notes.warnings)  # aloft always packs them


def test_options_and_env_resolve(notes: Project) -> None:
    svc = load_project(FIXTURES / "sls_wsgi", env={"NOTES_SECRET_KEY": "s3cr3t"}).service(
        options={"region": "us-west-1"})
    assert svc.environment["SECRET_KEY"] == "s3cr3t"
    assert svc.aws.region == "us-west-1"


def test_stages_from_provider_and_params(orders: Project) -> None:
    assert orders.stages == ["dev", "prod", "staging"] and orders.default_stage == "dev"
    dev, prod = orders.service("dev"), orders.service("prod")
    assert dev.environment == {"STAGE": "dev", "ORDERS_TABLE": "orders-dev", "LOG_LEVEL": "INFO"}
    assert prod.environment == {"STAGE": "prod", "ORDERS_TABLE": "orders-prod",
                                "LOG_LEVEL": "WARNING"}
    assert prod.resources.tables["OrdersTable"].name == "orders-prod"
    qa = orders.service("qa")  # any stage, as `serverless deploy --stage qa`
    assert qa.environment["ORDERS_TABLE"] == "orders-qa" and qa.stage == "qa"


def test_provider_settings(orders: Project) -> None:
    svc = orders.service("dev")
    assert (svc.memory, svc.timeout, svc.runtime) == (256, 15, "3.12")
    assert svc.aws.tracing is True and svc.aws.region == "us-east-2"
    assert svc.aws.vpc is not None and svc.aws.vpc.security_group_ids == ["sg-123"]
    assert svc.permissions[0].action == ["sqs:SendMessage"]
    assert svc.aws.api == "rest"  # http events: API Gateway REST API


def test_http_events(orders: Project) -> None:
    api = orders.service("dev").functions["api"]
    assert api.handler == "src.orders.api.handle" and api.payload == "1.0"
    routes = [(e.http.method, e.http.path, e.http.cors) for e in api.events if e.http]
    assert routes == [("GET", "/orders/{id}", True), ("POST", "/orders", None),
                      ("ANY", "/{proxy+}", None)]


def test_queue_topic_bucket_stream_schedule_events(orders: Project) -> None:
    fns = orders.service("dev").functions
    queue = fns["process"].events[0].queue
    assert queue is not None and queue.name == "OrdersQueue"
    assert (queue.batch_size, queue.window, queue.partial_failures) == (5, 10, True)
    assert (fns["process"].timeout, fns["process"].concurrency) == (60, 5)
    created, referenced = (e.topic for e in fns["notify"].events)
    assert created is not None and created.name == "order-events"
    assert referenced is not None and referenced.name == "AlertsTopic"
    assert referenced.filter_policy == {"severity": ["high"]}
    new, existing = (e.bucket for e in fns["thumbnails"].events)
    assert new is not None and (new.name, new.prefix, new.suffix) == (
        "orders-uploads-dev", "images/", ".png")
    assert new.events == ["s3:ObjectCreated:*"]
    assert existing is not None and existing.name == "legacy-bucket"
    table, kinesis = (e.stream for e in fns["changes"].events)
    assert table is not None and (table.type, table.name, table.batch_size) == (
        "dynamodb", "OrdersTable", 50)
    assert table.starting_position == "TRIM_HORIZON" and table.partial_failures is False
    assert kinesis is not None and kinesis.type == "kinesis"
    cron, rate = (e.schedule for e in fns["nightly"].events)
    assert cron is not None and cron.cron == "0 3 * * ? *"
    assert rate is not None and rate.rate == "2 hours" and rate.enabled is False
    assert rate.input == {"kind": "hourly"}


def test_cloudformation_resources(orders: Project) -> None:
    res = orders.service("dev").resources
    queue = res.queues["OrdersQueue"]
    assert (queue.name, queue.visibility_timeout, queue.dead_letter, queue.max_receives) == (
        "orders-dev-orders", 120, "OrdersDLQ", 5)
    assert res.queues["OrdersDLQ"].retention == 1209600
    assert res.topics["AlertsTopic"].name == "orders-alerts"
    assert res.topics["order-events"].name == "order-events"  # created by the sns event
    assert res.tables["OrdersTable"].stream == "NEW_AND_OLD_IMAGES"
    assert res.buckets["Uploads"].versioning is True
    assert res.buckets["orders-uploads-dev"].name == "orders-uploads-dev"
    assert "legacy-bucket" not in res.buckets  # existing: true


def test_unsupported_parts_are_warnings(orders: Project) -> None:
    text = "\n".join(orders.warnings)
    assert "`resources.Resources.Dashboard`: resource type AWS::CloudWatch::Dashboard" in text
    assert "`functions.nightly.events[2].cognitoUserPool`" in text


def test_a_misspelt_key_is_warned_with_the_key_meant(write: Write) -> None:
    """A typo is not an unsupported setting: the warning names the key that was meant (the
    Serverless Framework reports an unrecognized property too), and a real setting aloft does
    not read keeps its own warning."""
    path = write("""\
        service: typos
        provider:
          name: aws
          runtime: python3.12
          enviroment:
            TABLE: orders
          stackParameters: []
        functions:
          hello:
            handler: handler.hello
            evnts:
              - schedule: rate(1 hour)
        plugin:
          - serverless-wsgi
        """, "serverless.yml")
    project = load_project(path, env={})
    svc = project.service()
    assert svc.environment == {} and svc.functions["hello"].events == []
    warnings = project.warnings
    assert "`provider.enviroment`: unknown key; ignored: did you mean `environment`?" in warnings
    assert "`functions.hello.evnts`: unknown key; ignored: did you mean `events`?" in warnings
    assert "`plugin`: unknown key; ignored: did you mean `plugins`?" in warnings
    assert "`provider.stackParameters`: not supported by aloft; ignored" in warnings


def test_variable_forms(write: Write) -> None:
    path = write("""\
        service: vars
        custom:
          sizes: {dev: 256, prod: 2048}
          region: ${opt:region, self:custom.defaultRegion}
          defaultRegion: ap-south-1
        provider:
          name: aws
          runtime: python3.12
          memorySize: ${self:custom.sizes.${sls:stage}}
          region: ${self:custom.region}
          environment:
            FROM_FILE: ${file(./extra.json):greeting}
            STAGE: ${opt:stage}
            CF: !Sub '${AWS::Region}-x'
        functions:
          hello:
            handler: handler.hello
        """, "serverless.yml")
    (path.parent / "extra.json").write_text('{"greeting": "hi"}')
    svc = load_project(path, env={}).service()
    assert svc.memory == 256 and svc.aws.region == "ap-south-1"
    # Fn::Sub of what is known before deploying is folded into text: the region the stage
    # is deployed in, the local cloud's here and provider.region on aws
    assert svc.environment == {"FROM_FILE": "hi", "STAGE": "dev", "CF": "us-east-1-x"}
    aws = load_project(path, env={}).service(options={"provider": "aws"})
    assert aws.environment["CF"] == "ap-south-1-x"
    assert svc.functions["hello"].memory is None


def test_errors_point_into_serverless_yml(write: Write) -> None:
    path = write("""\
        service: bad
        provider:
          name: aws
          runtime: python3.12
          memorySize: huge
        functions:
          hello:
            handler: handler.hello
            events:
              - schedule: every day
        """, "serverless.yml")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service()
    lines = str(info.value)
    assert ":5:15, at provider.memorySize, stage 'dev'" in lines
    assert ":10:19, at functions.hello.events[0].schedule, function 'hello'" in lines


def test_missing_param(write: Write) -> None:
    path = write("""\
        service: p
        provider: {name: aws, runtime: python3.12}
        params:
          prod: {x: 1}
        functions:
          f:
            handler: h.f
            environment: {X: '${param:x}'}
        """, "serverless.yml")
    project = load_project(path, env={})
    assert project.service("prod").functions["f"].environment == {"X": "1"}
    with pytest.raises(ConfigError, match="parameter 'x' is not set for stage 'dev'"):
        project.service("dev")


def test_param_cycle(write: Write) -> None:
    path = write("""\
        service: p
        provider: {name: aws, runtime: python3.12}
        params:
          default: {a: '${param:b}', b: 'x-${param:a}'}
        functions:
          f:
            handler: h.f
            environment: {X: '${param:a}'}
        """, "serverless.yml")
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        load_project(path, env={}).service()
