"""serverless.yml: events, intrinsics where users write them, function keys, and plugins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.config.intrinsics import GetAtt, ImportValue, Join, Ref
from aloft.errors import ConfigError

Write = Callable[..., Path]


def _warned(warnings: list[str], *parts: str) -> bool:
    return any(all(p in w for p in parts) for w in warnings)


def test_http_cors_objects_and_flags(write: Write) -> None:
    path = write("""\
        service: api
        provider: {name: aws, runtime: python3.12}
        functions:
          api:
            handler: api.handle
            events:
              - http:
                  path: items
                  method: get
                  cors:
                    origin: https://shop.test
                    headers: [Content-Type, Authorization]
                    allowCredentials: true
                    maxAge: 86400
              - http: {path: items, method: post, cors: true, authorizer: aws_iam}
              - http: {path: health, method: get}
        """, "serverless.yml")
    project = load_project(path, env={})
    svc = project.service()
    routes = [(e.http.method, e.http.path, e.http.cors) for e in svc.functions["api"].events
              if e.http]
    assert routes == [("GET", "/items", True), ("POST", "/items", True),
                      ("GET", "/health", False)]
    assert svc.cors.enabled and svc.cors.origins == ["https://shop.test"]
    assert svc.cors.credentials is True and svc.cors.max_age == 86400
    assert svc.cors.headers == ["Content-Type", "Authorization"]
    assert svc.functions["api"].payload == "1.0" and svc.aws.api == "rest"
    assert _warned(project.warnings, "events[1].http.authorizer", "authorizers")


def test_intrinsics_in_statements_environment_and_event_arns(write: Write) -> None:
    path = write("""\
        service: shop
        provider:
          name: aws
          region: eu-west-1
          environment:
            QUEUE_URL: {Ref: JobsQueue}
            USERS: !Ref UsersTable
          iam:
            role:
              statements:
                - Effect: Allow
                  Action: [dynamodb:GetItem, dynamodb:Query]
                  Resource:
                    - Fn::GetAtt: [UsersTable, Arn]
                    - Fn::Join: ['/', [{Fn::GetAtt: [UsersTable, Arn]}, index, '*']]
                - Sid: Legacy
                  Effect: Allow
                  Action: sqs:SendMessage
                  Resource: !Sub arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:legacy
          iamRoleStatements:
            - Effect: Allow
              Action: s3:GetObject
              Resource: arn:aws:s3:::x/*
              Condition: {StringEquals: {aws:RequestTag/team: a}}
        functions:
          worker:
            handler: jobs.run
            events:
              - sqs: {arn: {Fn::GetAtt: [JobsQueue, Arn]}, batchSize: 5}
              - sqs:
                  arn:
                    Fn::Join: [':', [arn, aws, sqs, {Ref: AWS::Region}, {Ref: AWS::AccountId},
                                     other]]
              - sqs: {arn: {Fn::ImportValue: shared-queue-arn}}
        resources:
          Resources:
            JobsQueue: {Type: AWS::SQS::Queue}
            UsersTable:
              Type: AWS::DynamoDB::Table
              Properties:
                TableName: !Sub ${AWS::StackName}-users
                KeySchema: [{AttributeName: id, KeyType: HASH}]
        """, "serverless.yml")
    project = load_project(path, env={})
    svc = project.service()
    assert svc.environment == {"QUEUE_URL": Ref("JobsQueue"), "USERS": Ref("UsersTable")}
    users, legacy = svc.permissions
    assert users.resource == [GetAtt("UsersTable", "Arn"),
                              Join("/", (GetAtt("UsersTable", "Arn"), "index", "*"))]
    assert legacy.resource == ["arn:aws:sqs:us-east-1:000000000000:legacy"]  # folded, local
    assert _warned(project.warnings, "iamRoleStatements[0]", "Condition", "left out")
    names = [e.queue.name for e in svc.functions["worker"].events if e.queue]
    assert names == ["JobsQueue", "arn:aws:sqs:us-east-1:000000000000:other",
                     ImportValue("shared-queue-arn")]
    assert svc.resources.tables["UsersTable"].name == "shop-dev-users"  # AWS::StackName


def test_conditions_decide_resources_and_values(write: Write) -> None:
    path = write("""\
        service: shop
        provider:
          name: aws
          environment:
            SIZE: {Fn::If: [IsProd, large, small]}
        functions: {f: {handler: h.f}}
        resources:
          Conditions:
            IsProd: {Fn::Equals: ['${sls:stage}', prod]}
          Resources:
            Archive:
              Type: AWS::S3::Bucket
              Condition: IsProd
        """, "serverless.yml")
    project = load_project(path, env={})
    dev, prod = project.service(), project.service("prod")
    assert dev.environment == {"SIZE": "small"} and prod.environment == {"SIZE": "large"}
    assert "Archive" not in dev.resources.buckets and "Archive" in prod.resources.buckets
    assert set(prod.conditions) == {"IsProd"}


def test_event_bridge_alb_and_refused_events(write: Write) -> None:
    path = write("""\
        service: shop
        provider: {name: aws}
        functions:
          orders:
            handler: orders.on_event
            events:
              - eventBridge:
                  eventBus: arn:aws:events:us-east-1:123456789012:event-bus/shop
                  pattern: {source: [shop.orders], detail-type: [created]}
              - eventBridge: {schedule: rate(10 minutes), input: {k: 1}}
              - alb:
                  listenerArn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z
                  priority: 3
                  conditions: {path: /orders, method: [GET, POST]}
        """, "serverless.yml")
    project = load_project(path, env={})
    bridge, schedule, alb = project.service().functions["orders"].events
    assert bridge.eventbridge is not None
    assert bridge.eventbridge.pattern == {"source": ["shop.orders"], "detail-type": ["created"]}
    assert str(bridge.eventbridge.bus).endswith("event-bus/shop")
    assert schedule.schedule is not None and schedule.schedule.rate == "10 minutes"
    assert schedule.schedule.input == {"k": 1}
    assert alb.alb is not None and alb.alb.priority == 3 and alb.alb.paths == ["/orders"]
    assert alb.alb.methods == ["GET", "POST"]
    # the local cloud's EventBridge delivers them (PutEvents on its AWS endpoint): no warning
    assert not _warned(project.warnings, "functions.orders.events[0]")

    for kind, body in (("websocket", "$connect"), ("cloudwatchLog", "/aws/lambda/x")):
        path = write(f"""\
            service: shop
            provider: {{name: aws}}
            functions:
              sock:
                handler: s.h
                events:
                  - {kind}: {body}
            """, "serverless.yml")
        with pytest.raises(ConfigError) as info:
            load_project(path, env={}).service()
        assert "not supported yet" in info.value.message
        where = info.value.where
        assert where is not None and where.line == 7 and where.key_path == \
            f"functions.sock.events[0].{kind}"


def test_function_keys(write: Write) -> None:
    path = write("""\
        service: shop
        provider: {name: aws, runtime: python3.12}
        functions:
          worker:
            handler: src/jobs.run
            runtime: python3.11
            memorySize: 2048
            timeout: 120
            reservedConcurrency: 4
            provisionedConcurrency: 2
            maximumRetryAttempts: 1
            maximumEventAge: 3600
            tracing: Active
            snapStart: true
            onError: arn:aws:sqs:us-east-1:123456789012:failed
            destinations:
              onSuccess: audit
              onFailure: arn:aws:sns:us-east-1:123456789012:alerts
            layers: [arn:aws:lambda:us-east-1:123456789012:layer:pandas:3]
            name: custom-name
          audit: {handler: audit.record}
        """, "serverless.yml")
    project = load_project(path, env={})
    fn = project.service().functions["worker"]
    assert fn.handler == "src.jobs.run" and fn.runtime == "3.11"
    assert (fn.memory, fn.timeout, fn.concurrency, fn.provisioned_concurrency) == (
        2048, 120, 4, 2)
    assert (fn.retries, fn.max_event_age, fn.tracing, fn.snapshot) == (1, 3600, True, True)
    assert fn.snap_start is True  # SnapStart on aws as well
    assert fn.dead_letter == "arn:aws:sqs:us-east-1:123456789012:failed"
    assert fn.destinations is not None and fn.destinations.on_success == "audit"
    assert fn.layers == ["arn:aws:lambda:us-east-1:123456789012:layer:pandas:3"]
    text = "\n".join(project.warnings)
    assert "`functions.worker.layers`: layers are added on aws; the local cloud" in text
    assert "`functions.worker.name`: aloft names functions" in text
    assert "provisioned_concurrency" not in text  # the local cloud applies it


def test_plugins_are_read_or_named(write: Write) -> None:
    path = write("""\
        service: shop
        plugins:
          - serverless-python-requirements
          - serverless-offline
          - serverless-iam-roles-per-function
          - serverless-plugin-warmup
          - serverless-some-unknown-plugin
        custom:
          pythonRequirements:
            slim: true
            layer: true
            dockerizePip: true
            noDeploy: [boto3, pandas]
            pythonBin: python3.12
          serverless-offline:
            httpPort: 4000
            noPrependStageInUrl: true
        provider: {name: aws}
        functions:
          f:
            handler: h.f
            iamRoleStatements:
              - {Effect: Allow, Action: [s3:GetObject], Resource: arn:aws:s3:::b/*}
        """, "serverless.yml")
    project = load_project(path, env={})
    svc = project.service()
    assert svc.functions["f"].permissions[0].action == ["s3:GetObject"]
    warnings = project.warnings
    assert _warned(warnings, "pythonRequirements.slim", "does not strip")
    assert _warned(warnings, "pythonRequirements.dockerizePip", "without Docker")
    assert _warned(warnings, "pythonRequirements.noDeploy", "remove pandas")
    assert not _warned(warnings, "pythonRequirements.layer")  # aloft always uses a layer
    assert _warned(warnings, "serverless-offline.httpPort", "aloft dev --port")
    assert _warned(warnings, "plugins[3]", "serverless-plugin-warmup", "keep_warm")
    assert _warned(warnings, "plugins[4]", "serverless-some-unknown-plugin",
                   "aloft runs no Serverless plugins")
    assert _warned(warnings, "functions.f.iamRoleStatements", "service's statements")


def test_dotenv_plugin_fills_the_functions_environment(write: Write) -> None:
    path = write("""\
        service: shop
        plugins: [serverless-dotenv-plugin]
        custom:
          dotenv: {exclude: [LOCAL_ONLY]}
        provider:
          name: aws
          environment:
            EXPLICIT: yes-${env:API_KEY}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    (path.parent / ".env").write_text('API_KEY=k1\nLOCAL_ONLY=1\nGREETING="hi ${API_KEY}"\n')
    (path.parent / ".env.prod").write_text("API_KEY=k-prod\n")
    project = load_project(path, env={})
    assert project.service().environment == {"EXPLICIT": "yes-k1", "API_KEY": "k1",
                                             "GREETING": "hi k1"}
    assert project.service("prod").environment["API_KEY"] == "k-prod"


def test_lift_constructs(write: Write) -> None:
    path = write("""\
        service: shop
        plugins: [serverless-lift]
        provider:
          name: aws
          environment:
            QUEUE_URL: ${construct:jobs.queueUrl}
            BUCKET: ${construct:uploads.bucketName}
        constructs:
          jobs:
            type: queue
            maxRetries: 5
            batchSize: 2
            worker: {handler: src/worker.handler, timeout: 20}
          uploads: {type: storage}
          hooks: {type: webhook, path: /hook}
        functions: {api: {handler: api.handle}}
        """, "serverless.yml")
    project = load_project(path, env={})
    svc = project.service()
    assert svc.environment == {"QUEUE_URL": Ref("jobs"), "BUCKET": Ref("uploads")}
    queue = svc.resources.queues["jobs"]
    assert (queue.dead_letter, queue.max_receives, queue.visibility_timeout) == (True, 5, 120)
    assert svc.resources.buckets["uploads"].versioning is True
    worker = svc.functions["jobsWorker"]
    assert worker.handler == "src.worker.handler" and worker.timeout == 20
    event = worker.events[0].queue
    assert event is not None and (event.name, event.batch_size) == ("jobs", 2)
    assert _warned(project.warnings, "constructs.hooks", "webhook", "not supported")

    path.write_text(path.read_text().replace("jobs.queueUrl", "jobs.queueUrll"))
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service()
    assert "a queue construct has no property 'queueUrll'" in info.value.message
    assert info.value.where is not None and info.value.where.line == 6
