"""SNS topics and S3 notifications → function, through an internal SQS queue per binding.

The local endpoint cannot call a function itself, so each binding gets a queue
(`aloft-{topic|bucket}-{binding key}`) that the topic (an `sqs` subscription with the binding's
filter policy, raw delivery off) or the bucket (a queue notification with the binding's events,
prefix and suffix) delivers to. The relay turns each notification into Lambda's SNS or S3 event
and queues it as an asynchronous invocation, as SNS and S3 invoke Lambda asynchronously: the
async queue's retries and dead-letter queue apply. A message is deleted only once its event is
durably queued, so nothing is lost between the two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aloft.local.triggers.pollers.clients import LONG_POLL_SECONDS
from aloft.local.triggers.pollers.lambda_events import encode, s3_records, sns_event
from aloft.local.triggers.pollers.poller import Poller, log

NOTIFICATION_KINDS = ("QueueConfigurations", "TopicConfigurations",
                      "LambdaFunctionConfigurations", "EventBridgeConfiguration")


def relay_queue_name(kind: str, key: str) -> str:
    return f"aloft-{kind}-{key}"


def notification_id(key: str) -> str:
    return f"aloft-{key}"


def bucket_notifications(
    current: Mapping[str, Any], own_id: str, entry: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A bucket's notification configuration with this binding's queue entry replaced by
    `entry` (None removes it); every other entry, the user's own included, is kept."""
    out: dict[str, Any] = {k: current[k] for k in NOTIFICATION_KINDS if k in current}
    queues = [q for q in out.get("QueueConfigurations", []) if q.get("Id") != own_id]
    if entry is not None:
        queues.append(dict(entry))
    if queues:
        out["QueueConfigurations"] = queues
    else:
        out.pop("QueueConfigurations", None)
    return out


def queue_notification(
    own_id: str, queue_arn: str, events: tuple[str, ...], prefix: str | None,
    suffix: str | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": own_id, "QueueArn": queue_arn,
                             "Events": list(events) or ["s3:ObjectCreated:*"]}
    rules = [{"Name": name, "Value": value}
             for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


class RelayPoller(Poller):
    queue_url = ""
    queue_arn = ""
    subscription_arn = ""

    @property
    def queue_name(self) -> str:
        return relay_queue_name(self.binding.kind, self.binding.key)

    async def setup(self) -> None:
        await self.call(self._setup)

    def _setup(self) -> None:
        sqs = self.clients.sqs
        self.queue_url = sqs.create_queue(QueueName=self.queue_name)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if self.binding.kind == "topic":
            self._subscribe()
        else:
            self._notify(self._own_entry())

    def _subscribe(self) -> None:
        sns, b = self.clients.sns, self.binding
        topic = self.clients.topic_arn(b.source)
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
            for sub in page.get("Subscriptions", []):
                if sub.get("Endpoint") != self.queue_arn:
                    continue
                attrs = sns.get_subscription_attributes(
                    SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                if attrs.get("FilterPolicy") and b.filter_policy and json.loads(
                        attrs["FilterPolicy"]) == json.loads(b.filter_policy):
                    self.subscription_arn = sub["SubscriptionArn"]
                    return
                if not attrs.get("FilterPolicy") and not b.filter_policy:
                    self.subscription_arn = sub["SubscriptionArn"]
                    return
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])  # the policy changed
        attributes = {"FilterPolicy": b.filter_policy} if b.filter_policy else {}
        self.subscription_arn = sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=self.queue_arn, Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def _own_entry(self) -> dict[str, Any]:
        b = self.binding
        return queue_notification(notification_id(b.key), self.queue_arn, b.events, b.prefix,
                                  b.suffix)

    def _notify(self, entry: dict[str, Any] | None) -> None:
        s3, bucket = self.clients.s3, self.binding.source
        with self.deps.bucket_lock:
            current = s3.get_bucket_notification_configuration(Bucket=bucket)
            own = notification_id(self.binding.key)
            mine = [q for q in current.get("QueueConfigurations", []) if q.get("Id") == own]
            if entry is not None and mine and _same_entry(mine[0], entry):
                return  # unchanged: setting it again would send another s3:TestEvent
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=bucket_notifications(current, own, entry))

    async def cycle(self) -> None:
        messages = await self.call(self.receive, self.queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=LONG_POLL_SECONDS)
        for message in messages:
            self.status.received += 1
            for payload in self._events(message.get("Body", "")):
                self.status.invocations += 1
                await self.deps.enqueue(self.binding.function, payload)
                self.status.succeeded += 1
            await self.call(self.clients.sqs.delete_message, QueueUrl=self.queue_url,
                            ReceiptHandle=message["ReceiptHandle"])

    def _events(self, body: str) -> list[bytes]:
        """The events one notification makes: S3 sends one record per event."""
        if self.binding.kind == "topic":
            event = sns_event(body, self.subscription_arn)
            return [] if event is None else [encode(event)]
        return [encode({"Records": [record]}) for record in s3_records(body) or []]

    async def teardown(self) -> None:
        await self.call(self._teardown)

    def _teardown(self) -> None:
        sqs = self.clients.sqs
        try:  # the topic or bucket may be gone already (undeploy removes resources too)
            if self.binding.kind == "topic":
                self._unsubscribe()
            else:
                self._notify(None)
        except Exception as exc:
            log.info("%s: %s", self.binding.describe(), exc)
        try:
            url = self.queue_url or sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            return
        sqs.delete_queue(QueueUrl=url)

    def _unsubscribe(self) -> None:
        if not self.subscription_arn:
            sqs = self.clients.sqs
            topic = self.clients.topic_arn(self.binding.source)
            url = sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
            arn = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            subs = self.clients.sns.list_subscriptions_by_topic(TopicArn=topic)
            self.subscription_arn = next(
                (s["SubscriptionArn"] for s in subs.get("Subscriptions", [])
                 if s.get("Endpoint") == arn), "")
        if self.subscription_arn:
            self.clients.sns.unsubscribe(SubscriptionArn=self.subscription_arn)


def _same_entry(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    def rules(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        return sorted((r["Name"].lower(), r["Value"]) for r in found)

    return (have.get("QueueArn") == want.get("QueueArn")
            and sorted(have.get("Events", [])) == sorted(want.get("Events", []))
            and rules(have) == rules(want))
