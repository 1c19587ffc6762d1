"""Event sources against a real moto server and a real instance pool: SQS batches with partial
failures, retries and redrive to the dead-letter queue; S3 notifications exactly once with
prefix/suffix; SNS with a filter policy; a DynamoDB stream with a durable checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aloft.local.instances.pool import InstancePool
from aloft.local.store.registry import LocalRegistry, Snapshot
from aloft.local.store.state import State
from aloft.local.triggers.async_queue import AsyncEvent, AsyncQueue
from aloft.local.triggers.pollers.bindings import Binding
from aloft.local.triggers.pollers.checkpoints import Checkpoints
from aloft.local.triggers.pollers.manager import EventSources
from aloft.local.types import FunctionVersion, InvokeResult
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.waiting import wait_until

HANDLERS = '''
import json, os

OUT = os.environ["OUT_DIR"]


def _log(kind, data):
    with open(os.path.join(OUT, kind + ".log"), "a") as fh:
        fh.write(json.dumps(data) + "\\n")


def batch(event, context):
    failures = []
    for r in event["Records"]:
        _log("batch", {"id": r["messageId"], "body": r["body"], "source": r["eventSource"],
                       "count": r["attributes"]["ApproximateReceiveCount"]})
        if r["body"].startswith("fail"):
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}


def each(record, context):
    _log("each", {"id": record["messageId"], "body": record["body"]})
    if record["body"].startswith("fail"):
        raise ValueError("cannot process " + record["body"])


def topic(event, context):
    _log("topic", event)


def bucket(event, context):
    _log("bucket", event)


def stream(event, context):
    _log("stream", event)
    failures = []
    for r in event["Records"]:
        image = r["dynamodb"].get("NewImage", {})
        if image.get("fail", {}).get("S") == "yes" and not os.path.exists(OUT + "/healed"):
            failures.append({"itemIdentifier": r["dynamodb"]["SequenceNumber"]})
            _log("stream_failed", {"seq": r["dynamodb"]["SequenceNumber"]})
            break
    return {"batchItemFailures": failures}


def kinesis(event, context):
    import base64
    _log("kinesis", [{"data": base64.b64decode(r["kinesis"]["data"]).decode(),
                      "key": r["kinesis"]["partitionKey"], "id": r["eventID"],
                      "source": r["eventSource"]} for r in event["Records"]])
'''
FUNCTIONS = ["batch", "each", "topic", "bucket", "stream", "kinesis"]


def read(out: Path, kind: str) -> list[Any]:
    path = out / f"{kind}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@dataclass
class Env:
    loop: LoopThread
    sources: EventSources
    registry: LocalRegistry
    fvs: dict[str, FunctionVersion]
    out: Path
    url: str
    db: Path
    asyncq: AsyncQueue

    def client(self, name: str) -> Any:
        return boto3.client(name, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def bind(self, *bindings: Binding) -> None:
        self.loop.run(self.sources.refresh(list(bindings)))

    def settled(self, kind: str, done: Callable[[list[Any]], bool]) -> list[Any]:
        """`kind`'s log once `done` holds for it and nothing is left in the async queue of
        its function (the relays queue SNS and S3 events as async invocations): every event
        queued before the one `done` waits for has run by then."""
        function = self.fvs[kind].function

        def ready() -> list[Any] | None:
            events = read(self.out, kind)
            if not done(events) or self.loop.run(self.asyncq.pending_count([function])):
                return None
            return events
        found: list[Any] = wait_until(ready, message=lambda: f"{kind}.log: {read(self.out, kind)}")
        return found

    def polling(self, function: str) -> dict[str, Any]:
        """The binding of `function` once its poller is set up."""
        def ready() -> dict[str, Any] | None:
            for row in self.sources.status([function]):
                if row["state"] == "polling":
                    return row
            return None
        found: dict[str, Any] = wait_until(
            ready, message=lambda: f"{function}'s poller: {self.sources.status([function])}")
        return found


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    root = tmp_path_factory.mktemp("sources")
    out = root / "out"
    out.mkdir()
    code = build_artifact(root / "code", {"handlers.py": HANDLERS},
                          {n: f"handlers.{n}" for n in FUNCTIONS})
    settings = json.loads((code / "aloft_settings.json").read_text())
    settings["functions"]["each"]["records"] = "each"
    (code / "aloft_settings.json").write_text(json.dumps(settings))
    fvs = {}
    for name in FUNCTIONS:
        fv = function_version(code, name, timeout=5)
        fvs[name] = replace(fv, environment={**fv.environment, "OUT_DIR": str(out)})
    registry = LocalRegistry(Snapshot(current={fv.function: fv for fv in fvs.values()}))
    db = root / "state.db"
    State(db)
    loop = LoopThread()
    pool = InstancePool(RecordingSink(), account_concurrency=6)

    async def run_event(event: AsyncEvent) -> InvokeResult | None:
        fv = registry.current(event.function)
        return None if fv is None else await pool.invoke(fv, event.payload)

    asyncq = AsyncQueue(db, run_event, workers=2, backoff=0.1)
    loop.run(asyncq.start())

    async def enqueue(function: str, payload: bytes) -> None:
        await asyncq.enqueue(function, payload, max_retries=2)

    for fv in fvs.values():  # warm: a batch's processing stays well within its visibility
        loop.run(pool.prewarm(fv))
    sources = EventSources(endpoint_url=url, registry=registry, invoke=pool.invoke,
                           enqueue=enqueue, state_db=db)
    loop.run(sources.start())
    yield Env(loop, sources, registry, fvs, out, url, db, asyncq)
    loop.run(sources.stop())
    loop.run(asyncq.stop())
    loop.run(pool.close())
    loop.close()
    server.stop()


def _queue_with_dlq(env: Env, name: str, max_receives: int = 2) -> tuple[str, str]:
    sqs = env.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
              "maxReceiveCount": str(max_receives)}
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "3", "RedrivePolicy": json.dumps(policy)})["QueueUrl"]
    return url, dlq


def _dlq_bodies(env: Env, dlq: str) -> list[str]:
    got = env.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=1)
    return [m["Body"] for m in got.get("Messages", [])]


def _depth(env: Env, url: str) -> int:
    attrs = env.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"])


def test_sqs_batch_failure_retries_only_the_failed_message_then_dead_letters_it(
    env: Env,
) -> None:
    """Two functions at once, a queue each (their pollers run side by side, so the retries'
    visibility timeouts are waited for once): `batch` reports the failed item of its batch,
    `each` (records: each) raises for it."""
    sqs = env.client("sqs")
    queues = {}
    for function in ("batch", "each"):
        url, dlq = _queue_with_dlq(env, f"jobs-{function}", max_receives=2)
        queues[function] = url, dlq
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": body}
            for i, body in enumerate(["ok-1", "fail-2", "ok-3"])])
    env.bind(*(Binding("queue", env.fvs[function].function, f"jobs-{function}", batch_size=10,
                       window=1) for function in queues))
    for function, (url, dlq) in queues.items():
        # Received twice (maxReceiveCount 2) then redriven: the third receive finds it in the
        # DLQ. (The window, 1 s, and the processing stay within the visibility timeout, 3 s,
        # as they must on Lambda too: otherwise a message comes back while its batch is still
        # running.)
        assert wait_until(lambda: _dlq_bodies(env, dlq), timeout=20,  # noqa: B023
                          message=f"{function}'s dead letter") == ["fail-2"]
        seen = read(env.out, function)
        bodies = [r["body"] for r in seen]
        assert bodies.count("ok-1") == 1 and bodies.count("ok-3") == 1  # deleted after success
        assert bodies.count("fail-2") == 2  # retried after the visibility timeout, only it
        assert _depth(env, url) == 0
        if function == "batch":
            # The window gathered the three messages into one invocation.
            assert sorted(r["body"] for r in seen[:3]) == ["fail-2", "ok-1", "ok-3"]
            assert all(r["source"] == "aws:sqs" for r in seen)
            assert [r["count"] for r in seen if r["body"] == "fail-2"] == ["1", "2"]
        row = env.polling(env.fvs[function].function)
        assert row["succeeded"] == 2 and row["failed"] == 2 and row["last_poll"]


def test_s3_upload_triggers_the_function_exactly_once_with_prefix_and_suffix(env: Env) -> None:
    s3 = env.client("s3")
    s3.create_bucket(Bucket="uploads-bkt")
    fn = env.fvs["bucket"].function
    env.bind(Binding("bucket", fn, "uploads-bkt",
                     events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"),
                     prefix="in/", suffix=".csv"))
    env.polling(fn)
    s3.put_object(Bucket="uploads-bkt", Key="in/data 1.csv", Body=b"a,b\n")
    s3.put_object(Bucket="uploads-bkt", Key="in/skip.txt", Body=b"no")  # wrong suffix
    s3.put_object(Bucket="uploads-bkt", Key="out/skip.csv", Body=b"no")  # wrong prefix
    # The marker's notification comes after the skipped ones would have: once it has run (and
    # nothing is left queued), an event for them would be in the log.
    s3.put_object(Bucket="uploads-bkt", Key="in/zz-marker.csv", Body=b"m")

    def keys(events: list[Any]) -> list[str]:
        return [e["Records"][0]["s3"]["object"]["key"] for e in events]

    events = env.settled("bucket", lambda events: "in/zz-marker.csv" in keys(events))
    assert sorted(keys(events)) == ["in/data+1.csv", "in/zz-marker.csv"]
    [record] = [e["Records"][0] for e in events if keys([e]) == ["in/data+1.csv"]]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "uploads-bkt"
    assert record["s3"]["object"]["key"] == "in/data+1.csv"  # S3's encoding: '/' kept
    assert record["s3"]["object"]["size"] == 4
    s3.delete_object(Bucket="uploads-bkt", Key="in/data 1.csv")
    removed = wait_until(lambda: read(env.out, "bucket")[2:])
    assert removed[0]["Records"][0]["eventName"].startswith("ObjectRemoved:")
    # The user's own notification entries survive the binding's; removing it removes only ours.
    conf = s3.get_bucket_notification_configuration(Bucket="uploads-bkt")
    assert [q["Id"] for q in conf["QueueConfigurations"]] == [
        f"aloft-{Binding('bucket', fn, 'uploads-bkt').key}"]
    env.bind()
    wait_until(lambda: not s3.get_bucket_notification_configuration(
        Bucket="uploads-bkt").get("QueueConfigurations"))


def test_sns_publish_reaches_the_function_through_its_filter_policy(env: Env) -> None:
    sns = env.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    fn = env.fvs["topic"].function
    env.bind(Binding("topic", fn, "alerts", filter_policy=json.dumps({"level": ["high"]})))
    env.polling(fn)
    sns.publish(TopicArn=topic, Message="low one", MessageAttributes={
        "level": {"DataType": "String", "StringValue": "low"}})
    sns.publish(TopicArn=topic, Message="high one", Subject="alarm", MessageAttributes={
        "level": {"DataType": "String", "StringValue": "high"}})
    # The marker passes the filter after "low one" would have.
    sns.publish(TopicArn=topic, Message="marker", MessageAttributes={
        "level": {"DataType": "String", "StringValue": "high"}})

    def messages(events: list[Any]) -> list[str]:
        return [e["Records"][0]["Sns"]["Message"] for e in events]

    events = env.settled("topic", lambda events: "marker" in messages(events))
    assert sorted(messages(events)) == ["high one", "marker"]
    [record] = [e["Records"][0] for e in events if messages([e]) == ["high one"]]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Message"] == "high one" and record["Sns"]["Subject"] == "alarm"
    assert record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["MessageAttributes"]["level"] == {"Type": "String", "Value": "high"}
    env.bind()  # tear down: the subscription goes
    wait_until(lambda: not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])


def test_dynamodb_insert_reaches_the_stream_function_and_checkpoints(env: Env) -> None:
    ddb = env.client("dynamodb")
    ddb.create_table(
        TableName="items", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.put_item(TableName="items", Item={"id": {"S": "before"}})  # LATEST: not delivered
    fn = env.fvs["stream"].function
    binding = Binding("stream", fn, "items", batch_size=10)
    env.bind(binding)
    env.polling(fn)
    ddb.put_item(TableName="items", Item={"id": {"S": "a1"}, "n": {"N": "1"}})
    events = wait_until(lambda: read(env.out, "stream"))
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == {"id": {"S": "a1"}}
    assert record["dynamodb"]["NewImage"]["n"] == {"N": "1"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert "/stream/" in record["eventSourceARN"]
    shard = env.client("dynamodbstreams").describe_stream(StreamArn=record["eventSourceARN"])[
        "StreamDescription"]["Shards"][0]["ShardId"]
    assert all(r["dynamodb"]["Keys"]["id"]["S"] != "before"
               for e in read(env.out, "stream") for r in e["Records"])
    # A failing record is retried, the shard waiting behind it (the checkpoint stays at a1);
    # once it passes, the checkpoint moves past it and a3.
    ddb.put_item(TableName="items", Item={"id": {"S": "a2"}, "fail": {"S": "yes"}})
    wait_until(lambda: read(env.out, "stream_failed"), message="a2's first failure")
    ddb.put_item(TableName="items", Item={"id": {"S": "a3"}})

    def delivered(key: str) -> bool:
        return any(r["dynamodb"]["Keys"]["id"]["S"] == key
                   for e in read(env.out, "stream") for r in e["Records"])

    # a2 retried, with a3 behind it in the batch: the checkpoint stays at a1
    wait_until(lambda: len(read(env.out, "stream_failed")) >= 2 and delivered("a3"),
               message=lambda: f"a2's retry with a3: {read(env.out, 'stream')}")
    checkpoints = Checkpoints(env.db)  # a second reader of state.db, as after a restart
    shard_key = f"{record['eventSourceARN']}|{shard}"
    assert checkpoints.get(binding.key, shard_key) == record["dynamodb"]["SequenceNumber"]
    (env.out / "healed").touch()
    last = read(env.out, "stream")[-1]["Records"][-1]["dynamodb"]["SequenceNumber"]  # a3's
    try:
        wait_until(lambda: checkpoints.get(binding.key, shard_key) == last)
    finally:
        checkpoints.close()
    env.bind()


def test_a_stopped_poller_does_not_hide_messages(env: Env) -> None:
    sqs = env.client("sqs")
    url = sqs.create_queue(QueueName="handover", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"]
    fn = env.fvs["batch"].function
    env.bind(Binding("queue", fn, "handover"))
    env.polling(fn)
    env.bind()  # its long poll is still waiting on the endpoint
    sqs.send_message(QueueUrl=url, MessageBody="for whoever polls next")
    got = wait_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get(
        "Messages", []), timeout=8, interval=0, message="the message, for the next poller")
    assert [m["Body"] for m in got] == ["for whoever polls next"]
    assert not [r for r in read(env.out, "batch") if r["body"] == "for whoever polls next"]


def test_kinesis_records_reach_the_function_in_order(env: Env) -> None:
    kin = env.client("kinesis")
    kin.create_stream(StreamName="clicks", ShardCount=1)
    wait_until(lambda: kin.describe_stream_summary(StreamName="clicks")[
        "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    fn = env.fvs["kinesis"].function
    env.bind(Binding("stream", fn, "clicks", stream_type="kinesis", batch_size=10))
    env.polling(fn)
    for n in range(3):
        kin.put_record(StreamName="clicks", Data=f"click-{n}".encode(), PartitionKey="p")

    def delivered() -> list[dict[str, str]]:
        return [r for event in read(env.out, "kinesis") for r in event]

    got = wait_until(lambda: delivered() if len(delivered()) >= 3 else None)
    assert [r["data"] for r in got] == ["click-0", "click-1", "click-2"]
    assert all(r["source"] == "aws:kinesis" and r["key"] == "p" for r in got)
    assert got[0]["id"].startswith("shardId-")
    env.bind()
