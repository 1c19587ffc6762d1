"""EventBridge on the local AWS endpoint: PutEvents delivers to the stage's `eventbridge` rules
(patterns as EventBridge matches them) as async invocations, a failing target ends in the
dead-letter list; ListRules and DescribeRule show the stage's schedules and rules. boto3 and the
AWS CLI (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aloft.config.models import Service
from aloft.local.services.supervisor import wait_for_endpoint
from tests.integration.local.cloud_helpers import USER, Cloud, aws_cli_json, service, write_project
from tests.waiting import wait_until

HANDLERS = """
    import json
    import os

    def record(event, context):
        with open(os.path.join(os.environ["OUT_DIR"], "got.jsonl"), "a") as fh:
            fh.write(json.dumps(event) + "\\n")

    def fail(event, context):
        raise ValueError("refuses " + json.dumps(event))

    def tick(event, context):
        return None
"""

CONFIG = """
    service: evb
    environment:
      OUT_DIR: {out}
    functions:
      orders:
        handler: handlers.record
        events:
          - eventbridge:
              pattern:
                source: [{{prefix: shop.}}]
                detail:
                  total: [{{numeric: [">", 100]}}]
                  state: [{{anything-but: [cancelled]}}]
      ids:
        handler: handlers.record
        events:
          - eventbridge:
              name: ids
              pattern: {{source: [shop.orders], detail: {{id: [{{exists: true}}]}}}}
              input_path: $.detail.id
      failing:
        handler: handlers.fail
        retries: 0
        events:
          - eventbridge: {{pattern: {{source: [shop.fail]}}}}
      ticker:
        handler: handlers.tick
        events:
          - schedule: rate(1 hour)
    stages:
      dev: {{}}
"""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Cloud, Service, str, Path]]:
    cloud = Cloud(tmp_path_factory.mktemp("home"), USER)
    cloud.start()
    root = tmp_path_factory.mktemp("project")
    out = tmp_path_factory.mktemp("out")  # not in the project, which functions cannot see
    write_project(root, CONFIG.format(out=out), {"handlers.py": HANDLERS})
    svc = service(root)
    cloud.provider.deploy(svc)
    yield cloud, svc, wait_for_endpoint(cloud.client), out
    if cloud.client.running() is not None:
        cloud.stop()


@pytest.fixture(scope="module")
def events(deployed: tuple[Cloud, Service, str, Path]) -> Any:
    return boto3.client("events", endpoint_url=deployed[2], region_name="us-east-1",
                        aws_access_key_id=USER["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=USER["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"total_max_attempts": 1}))


def received(out: Path) -> list[Any]:
    path = out / "got.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def entry(source: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"Source": source, "DetailType": "order", "Detail": json.dumps(detail)}


def test_put_events_reaches_the_matching_rules(deployed: tuple[Cloud, Service, str, Path],
                                               events: Any) -> None:
    out = deployed[3]
    answer = events.put_events(Entries=[
        entry("shop.orders", {"id": "o-1", "total": 150, "state": "paid"}),  # both rules
        entry("shop.orders", {"total": 500, "state": "cancelled"}),  # neither
        entry("shop.returns", {"total": 101, "state": "open"}),  # orders only
        entry("other", {"id": "o-9", "total": 1000}),  # none
    ])
    assert answer["FailedEntryCount"] == 0 and len(answer["Entries"]) == 4
    got = wait_until(lambda: received(out) if len(received(out)) >= 3 else None,
                     message=lambda: f"three deliveries: {received(out)}")
    full = sorted((e for e in got if isinstance(e, dict)), key=lambda e: e["source"])
    assert [(e["source"], e["detail"]["total"]) for e in full] == [("shop.orders", 150),
                                                                  ("shop.returns", 101)]
    assert full[0]["id"] == answer["Entries"][0]["EventId"]
    assert full[0]["account"] == "000000000000" and full[0]["detail-type"] == "order"
    assert "o-1" in got  # the input_path's part


def test_a_failing_target_ends_in_the_dead_letter_list(
        deployed: tuple[Cloud, Service, str, Path], events: Any) -> None:
    cloud, svc, _, _ = deployed
    events.put_events(Entries=[entry("shop.fail", {"n": 1})])
    wait_until(lambda: cloud.provider.status(svc).report["async"]["dead_letter"] == 1,
               message="the failed delivery in the dead-letter list")


def test_list_and_describe_rules(events: Any) -> None:
    rules = {r["Name"]: r for r in events.list_rules()["Rules"]}
    assert {"evb-dev-ids", "evb-dev-orders-eventbridge", "evb-dev-ticker-schedule"} <= set(rules)
    assert rules["evb-dev-ticker-schedule"]["ScheduleExpression"] == "rate(1 hour)"
    assert json.loads(rules["evb-dev-ids"]["EventPattern"])["source"] == ["shop.orders"]
    assert rules["evb-dev-ids"]["Arn"] == "arn:aws:events:us-east-1:000000000000:rule/evb-dev-ids"
    described = events.describe_rule(Name="evb-dev-ids")
    assert described["State"] == "ENABLED" and described["EventBusName"] == "default"
    page = events.list_rules(NamePrefix="evb-dev-", Limit=2)
    assert len(page["Rules"]) == 2 and page["NextToken"]


def test_the_aws_cli_puts_events_and_lists_rules(deployed: tuple[Cloud, Service, str, Path]
                                                 ) -> None:
    out = deployed[3]
    before = len(received(out))

    def aws(*args: str) -> Any:
        return aws_cli_json(deployed[2], *args)

    entries = json.dumps([entry("shop.cli", {"total": 200, "state": "new"})])
    assert aws("events", "put-events", "--entries", entries)["FailedEntryCount"] == 0
    wait_until(lambda: len(received(out)) > before, message="the CLI's event delivered")
    names = [r["Name"] for r in aws("events", "list-rules")["Rules"]]
    assert "evb-dev-orders-eventbridge" in names
    assert aws("events", "describe-rule", "--name", "evb-dev-ticker-schedule")[
        "ScheduleExpression"] == "rate(1 hour)"
