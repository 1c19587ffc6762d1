"""Event sources' pure core: bindings from the service, Lambda's settle rules for batches,
stream checkpoints, batching windows, AWS event shapes, bucket notification merging."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aloft.config.models import Service
from aloft.local.deploy import instructions as i
from aloft.local.services.account import local_stage
from aloft.local.triggers.pollers.bindings import (
    Binding,
    bindings_from_extras,
    bindings_json,
    desired_bindings,
)
from aloft.local.triggers.pollers.decisions import (
    Verdict,
    batch_due,
    batch_item_failures,
    parallel_batches,
    receive_size,
    retry_delay,
    settle,
    stream_step,
)
from aloft.local.triggers.pollers.lambda_events import (
    dynamodb_event,
    s3_key,
    s3_records,
    sns_event,
    sqs_event,
)
from aloft.local.triggers.pollers.relay import bucket_notifications, queue_notification
from tests.unit.runtime.runtime_helpers import load_event


def service(**extra: Any) -> Service:
    data = {"service": "shop", "stage": "dev", "root": "/tmp/shop", **extra}
    return Service.model_validate(data)


# --------------------------------------------------------------------------- bindings


def test_bindings_resolve_declared_resources_and_keep_arns_and_plain_names() -> None:
    svc = service(
        functions={
            "worker": {"handler": "h.work", "events": [
                {"queue": {"name": "jobs", "batch_size": 5, "window": 2}},
                {"queue": "arn:aws:sqs:us-east-1:123456789012:theirs"},
            ]},
            "notify": {"handler": "h.notify", "events": [
                {"topic": {"name": "alerts", "filter_policy": {"level": ["high"]}}},
                {"bucket": {"name": "Uploads", "events": ["created"], "prefix": "in/"}},
                {"bucket": "existing-bucket"},
                {"stream": {"table": "items", "starting_position": "TRIM_HORIZON"}},
            ]},
        },
        resources={"queues": {"jobs": {}}, "topics": {"alerts": {"name": "alerts-topic"}},
                   "buckets": {"Uploads": {}}, "tables": {"items": {"stream": True}}},
    )
    got = {(b.kind, b.source): b for b in desired_bindings(local_stage(svc))}
    assert set(got) == {
        ("queue", "shop-dev-jobs"), ("queue", "arn:aws:sqs:us-east-1:123456789012:theirs"),
        ("topic", "alerts-topic"), ("bucket", "shop-dev-uploads"),
        ("bucket", "existing-bucket"), ("stream", "shop-dev-items"),
    }
    jobs = got[("queue", "shop-dev-jobs")]
    assert (jobs.function, jobs.batch_size, jobs.window) == ("shop-dev-worker", 5, 2)
    assert json.loads(got[("topic", "alerts-topic")].filter_policy or "") == {"level": ["high"]}
    assert got[("bucket", "shop-dev-uploads")].events == ("s3:ObjectCreated:*",)
    assert got[("bucket", "shop-dev-uploads")].prefix == "in/"
    assert got[("stream", "shop-dev-items")].starting_position == "TRIM_HORIZON"
    # Stored with the deployment, read back identical (with the stage they belong to).
    back = bindings_from_extras([(("shop", "dev"), {"sources": bindings_json(local_stage(svc))})])
    assert back == desired_bindings(local_stage(svc))
    assert all(b.stage == ("shop", "dev") for b in back)


def test_a_stream_event_on_a_table_without_stream_is_a_config_error() -> None:
    from aloft.errors import ConfigError

    svc = service(functions={"changes": {"handler": "h.on", "events": [
        {"http": "GET /x"}, {"stream": {"table": "items"}}]}},
        resources={"tables": {"items": {}}})
    with pytest.raises(ConfigError) as caught:
        desired_bindings(local_stage(svc))
    assert caught.value.where is not None
    assert caught.value.where.key_path == "functions.changes.events[1].stream"
    assert caught.value.where.function == "changes" and caught.value.where.stage == "dev"
    assert "stream: true" in (caught.value.fix or "")


def test_binding_key_survives_setting_changes_but_not_a_new_source() -> None:
    a = Binding("queue", "shop-dev-worker", "shop-dev-jobs", batch_size=10)
    assert a.key == Binding("queue", "shop-dev-worker", "shop-dev-jobs", batch_size=1).key
    assert a != Binding("queue", "shop-dev-worker", "shop-dev-jobs", batch_size=1)
    assert a.key != Binding("queue", "shop-dev-worker", "shop-dev-other").key
    assert a.key != Binding("queue", "shop-dev-other", "shop-dev-jobs").key


def test_deployment_without_sources_has_no_bindings() -> None:
    assert bindings_from_extras([(("shop", "dev"), {"async": {}})]) == []


# --------------------------------------------------------------------------- decisions


def test_batch_due_when_full_or_when_the_window_is_over() -> None:
    assert not batch_due(0, 10, 99.0, 0)
    assert batch_due(1, 10, 0.0, 0)  # no window: as soon as anything arrived
    assert not batch_due(3, 10, 1.0, 2)
    assert batch_due(3, 10, 2.0, 2)
    assert batch_due(10, 10, 0.0, 300)
    assert receive_size(100, 95) == 5 and receive_size(100, 0) == 10 and receive_size(3, 0) == 3


def test_parallel_batches_respect_fifo_order_and_reserved_concurrency() -> None:
    assert parallel_batches(False, None) == 5
    assert parallel_batches(True, None) == 1
    assert parallel_batches(False, 2) == 2
    assert parallel_batches(True, 10) == 1
    assert parallel_batches(False, 0) == 0  # disabled: nothing is received


IDS = ["m1", "m2", "m3"]


def test_function_error_fails_the_whole_batch() -> None:
    assert settle(IDS, False, b'{"errorMessage": "x"}', partial_failures=True) == Verdict(
        (), tuple(IDS))


@pytest.mark.parametrize("payload", [b"", b"null", b"{}", b'{"batchItemFailures": []}',
                                     b'{"batchItemFailures": null}', b'"done"'])
def test_complete_success_responses(payload: bytes) -> None:
    assert settle(IDS, True, payload, partial_failures=True) == Verdict(tuple(IDS), ())


def test_only_reported_items_fail() -> None:
    payload = json.dumps({"batchItemFailures": [{"itemIdentifier": "m2"}]}).encode()
    assert settle(IDS, True, payload, partial_failures=True) == Verdict(("m1", "m3"), ("m2",))
    # Without ReportBatchItemFailures the response is ignored: everything succeeded.
    assert settle(IDS, True, payload, partial_failures=False) == Verdict(tuple(IDS), ())


@pytest.mark.parametrize("payload", [
    b"{not json", b'{"batchItemFailures": "m2"}',
    b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
    b'{"batchItemFailures": [{"itemIdentifier": null}]}',
    b'{"batchItemFailures": [{"id": "m2"}]}',
    b'{"batchItemFailures": [{"itemIdentifier": "unknown"}]}',
])
def test_invalid_reports_fail_the_whole_batch(payload: bytes) -> None:
    assert batch_item_failures(payload, IDS) is None
    assert settle(IDS, True, payload, partial_failures=True).succeeded == ()


SEQS = ["100", "200", "300", "400"]


def test_stream_success_checkpoints_the_last_record() -> None:
    assert stream_step(SEQS, Verdict(tuple(SEQS), ())).checkpoint == "400"
    assert stream_step(SEQS, Verdict(tuple(SEQS), ())).retry_from is None


def test_stream_partial_failure_checkpoints_before_the_first_failed_record() -> None:
    step = stream_step(SEQS, Verdict(("100", "200", "400"), ("300",)))
    assert (step.checkpoint, step.retry_from) == ("200", 2)
    first = stream_step(SEQS, Verdict(("200", "300", "400"), ("100",)))
    assert (first.checkpoint, first.retry_from) == (None, 0)
    # Two failures: the lowest one decides.
    both = stream_step(SEQS, Verdict(("100", "300"), ("400", "200")))
    assert (both.checkpoint, both.retry_from) == ("100", 1)


def test_retry_delay_doubles_up_to_a_cap() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(50) == 30.0


# --------------------------------------------------------------------------- events


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_event(name)
    return data


def test_sqs_event_has_lambdas_record_shape() -> None:
    message = {"MessageId": "id-1", "ReceiptHandle": "rh", "Body": "hello", "MD5OfBody": "md5",
               "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
               "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"},
                                     "b": {"DataType": "Binary", "BinaryValue": b"\x00"}}}
    event = sqs_event([message], "arn:aws:sqs:eu-west-1:123456789012:jobs")
    record = event["Records"][0]
    assert set(record) == set(sample("sqs.json")["Records"][0])
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:jobs"
    assert record["awsRegion"] == "eu-west-1" and record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["a"]["stringValue"] == "v"
    assert record["messageAttributes"]["b"]["binaryValue"] == "AA=="


def test_sns_event_from_an_sqs_delivered_notification() -> None:
    body = json.dumps({
        "Type": "Notification", "MessageId": "mid", "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Subject": "s", "Message": "m", "Timestamp": "2024-01-01T00:00:00.000Z",
        "SignatureVersion": "1", "Signature": "sig", "SigningCertURL": "https://cert",
        "UnsubscribeURL": "https://unsub",
        "MessageAttributes": {"k": {"Type": "String", "Value": "v"}},
    })
    event = sns_event(body, "arn:aws:sns:us-east-1:1:t:sub")
    assert event is not None
    record = event["Records"][0]
    expected = sample("sns.json")["Records"][0]
    assert set(record) == set(expected) and set(record["Sns"]) == set(expected["Sns"])
    assert record["Sns"]["SigningCertUrl"] == "https://cert"
    assert record["Sns"]["UnsubscribeUrl"] == "https://unsub"
    assert record["EventSubscriptionArn"] == "arn:aws:sns:us-east-1:1:t:sub"
    assert sns_event(json.dumps({"Type": "SubscriptionConfirmation"}), "x") is None
    assert sns_event("not json", "x") is None


def test_s3_records_are_completed_and_the_key_encoded_as_s3_does() -> None:
    body = json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
               "object": {"key": "in%2Fred+flower.jpg", "size": 3, "eTag": "e"}},
    }]})
    records = s3_records(body)
    assert records is not None
    expected = sample("s3.json")["Records"][0]
    assert set(records[0]) == set(expected)
    # versionId is only there for a versioned bucket, as the fixture's is.
    assert set(records[0]["s3"]["object"]) == set(expected["s3"]["object"]) - {"versionId"}
    assert records[0]["s3"]["object"]["key"] == "in/red+flower.jpg"
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})
    assert s3_records(test_event) is None
    assert s3_key("a%20b%2Fc") == "a+b/c"


def test_dynamodb_event_has_epoch_times_and_the_stream_arn() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    records = [{"eventID": "e1", "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {"ApproximateCreationDateTime": when, "Keys": {"id": {"S": "1"}},
                             "SequenceNumber": "111", "SizeBytes": 5,
                             "StreamViewType": "NEW_IMAGE"}}]
    event = dynamodb_event(records, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x")
    record = event["Records"][0]
    assert set(record) == set(sample("dynamodb_stream.json")["Records"][0])
    assert record["dynamodb"]["ApproximateCreationDateTime"] == when.timestamp()
    assert record["eventSourceARN"] == "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"


# --------------------------------------------------------------------------- bucket config


def test_bucket_notifications_replace_only_the_bindings_own_entry() -> None:
    user = {"Id": "mine", "QueueArn": "arn:q", "Events": ["s3:ObjectCreated:*"]}
    current = {"QueueConfigurations": [user], "ResponseMetadata": {"x": 1},
               "TopicConfigurations": [{"Id": "t"}]}
    entry = queue_notification("aloft-k", "arn:ours", ("s3:ObjectRemoved:*",), "in/", ".csv")
    added = bucket_notifications(current, "aloft-k", entry)
    assert "ResponseMetadata" not in added
    assert added["TopicConfigurations"] == [{"Id": "t"}]
    assert added["QueueConfigurations"] == [user, entry]
    assert entry["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "in/"},
                                                     {"Name": "suffix", "Value": ".csv"}]
    again = bucket_notifications(added, "aloft-k", entry)
    assert again["QueueConfigurations"] == [user, entry]  # replaced, not duplicated
    removed = bucket_notifications(added, "aloft-k", None)
    assert removed["QueueConfigurations"] == [user]
    assert "QueueConfigurations" not in bucket_notifications({"QueueConfigurations": [entry]},
                                                             "aloft-k", None)


# --------------------------------------------------------------------------- plan


def test_changed_bindings_make_a_deploy_that_records_them() -> None:
    from aloft.local.deploy.recorded import source_changes

    keep: list[i.Instruction] = [i.Keep("worker", "shop-dev-worker", 3)]
    old = Binding("queue", "shop-dev-worker", "shop-dev-jobs", batch_size=10).to_json()
    new = Binding("queue", "shop-dev-worker", "shop-dev-jobs", batch_size=5).to_json()
    assert source_changes(keep, "dev", [old], [old]) == keep  # unchanged: still a no-op
    plan = i.describe(source_changes(keep, "dev", [new], [old]))
    assert [x["action"] for x in plan] == ["keep", "sources", "switch_alias"]
    assert plan[1]["add"] == ["queue shop-dev-jobs -> shop-dev-worker"]
    assert plan[1]["remove"] == ["queue shop-dev-jobs -> shop-dev-worker"]
    assert plan[2]["functions"] == {"worker": 3}  # same versions, a new deployment
    switching = [*keep, i.SwitchAlias("dev", {"worker": 4})]
    assert [x["action"] for x in i.describe(source_changes(switching, "dev", [], [old]))] == [
        "keep", "switch_alias", "sources"]


def test_kinesis_event_has_lambdas_record_shape() -> None:
    from aloft.local.triggers.pollers.lambda_events import kinesis_event

    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    records = [{"SequenceNumber": "495", "Data": b"Hello", "PartitionKey": "p",
                "ApproximateArrivalTimestamp": when}]
    arn = "arn:aws:kinesis:eu-west-1:1:stream/clicks"
    record = kinesis_event(records, arn, "shardId-000000000000")["Records"][0]
    expected = sample("kinesis.json")["Records"][0]
    assert set(record) == set(expected) and set(record["kinesis"]) == set(expected["kinesis"])
    assert record["kinesis"]["data"] == "SGVsbG8="
    assert record["kinesis"]["approximateArrivalTimestamp"] == round(when.timestamp(), 3)
    assert record["eventID"] == "shardId-000000000000:495"
    assert record["awsRegion"] == "eu-west-1" and record["eventSourceARN"] == arn
