"""Grant checks of every enforced service, on the requests boto3 really makes: each call goes
from a boto3 client (signed with a function's key) through `AuthMiddleware` to moto's WSGI app,
in process (no sockets), and back to botocore, which parses the error as it would on AWS."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import boto3
import botocore
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import EnvironBuilder, run_wsgi_app

from aloft.local.services.account import ACCOUNT
from aloft.local.services.actions import json_checks, request_call, sqs_checks
from aloft.local.services.auth import (
    ADMIN_KEY,
    GRANTS_MARKER,
    AuthMiddleware,
    admin_secret,
    function_access_key,
)
from aloft.local.services.sigv4 import function_secret

SIGNING = b"s" * 32
USER_KEY, USER_SECRET = "AKIAUSERSOWNKEY00001", "the-user's-secret"
URL = "http://127.0.0.1:4566"
KEY = function_access_key("app-dev-worker", 1)
OLD_KEY = function_access_key("app-dev-old", 1)
GRANTS = [dict(GRANTS_MARKER),
          {"effect": "Allow", "action": ["s3:ListBucket"], "resource": ["arn:aws:s3:::open"]},
          {"effect": "Allow", "action": ["s3:GetObject", "s3:PutObject"],
           "resource": ["arn:aws:s3:::open/*"]},
          {"effect": "Deny", "action": ["s3:*"], "resource": ["arn:aws:s3:::open/secret/*"]},
          {"effect": "Allow", "action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
           "resource": [ACCOUNT.arn("sqs", "open")]},
          {"effect": "Allow", "action": ["sns:Publish"], "resource": [ACCOUNT.arn("sns", "open")]},
          {"effect": "Allow", "action": ["dynamodb:PutItem", "dynamodb:GetItem"],
           "resource": [ACCOUNT.arn("dynamodb", "table/open")]},
          {"effect": "Allow", "action": ["kinesis:Put*", "kinesis:Describe*"],
           "resource": [ACCOUNT.arn("kinesis", "stream/open")]},
          {"effect": "Allow", "action": ["events:PutEvents"],
           "resource": [ACCOUNT.arn("events", "event-bus/open")]}]


class _Raw(io.BytesIO):
    """What botocore reads a response body from (urllib3's response, in a real call)."""

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.getvalue()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[AuthMiddleware]:
    """One moto for the module (tests use their own objects in the shared buckets), in the
    local cloud's account as moto_server.py runs it."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("MOTO_ACCOUNT_ID", ACCOUNT.account_id)
        mw = AuthMiddleware(DomainDispatcherApplication(create_backend_app), "token",
                            lambda: None, SIGNING, {USER_KEY: USER_SECRET}.get)
        mw.set_grants({KEY: ("app-dev-worker", GRANTS),
                       OLD_KEY: ("app-dev-old", GRANTS[1:])})  # recorded by an older aloft
        admin = clients(mw, ADMIN_KEY, admin_secret(SIGNING))
        for bucket in ("open", "closed"):
            admin("s3").create_bucket(Bucket=bucket)
            admin("sqs").create_queue(QueueName=bucket)
            admin("sns").create_topic(Name=bucket)
            admin("dynamodb").create_table(
                TableName=bucket, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
            admin("kinesis").create_stream(StreamName=bucket, ShardCount=1)
        admin("s3").put_object(Bucket="closed", Key="a.txt", Body=b"closed")
        yield mw


def clients(app: Any, key: str, secret: str) -> Any:
    """boto3 clients whose requests are served by `app` in process."""

    def send(request: Any, **_: Any) -> AWSResponse:
        parts = request.url.split("?", 1)
        path = parts[0].split("://", 1)[1].split("/", 1)
        body = request.body or b""
        if not isinstance(body, bytes):
            body = body.read() if hasattr(body, "read") else str(body).encode()
        environ = EnvironBuilder(
            method=request.method, base_url=URL, path="/" + (path[1] if len(path) > 1 else ""),
            query_string=parts[1] if len(parts) > 1 else "", data=body,
            headers={k: v.decode() if isinstance(v, bytes) else v
                     for k, v in request.headers.items()
                     if k.lower() not in ("content-length", "transfer-encoding")},
        ).get_environ()
        environ["HTTP_HOST"] = request.headers.get("Host") or "127.0.0.1:4566"
        environ["RAW_URI"] = environ["REQUEST_URI"] = request.url.split("://", 1)[1][
            len(environ["HTTP_HOST"]):] if "://" in request.url else request.url
        app_iter, status, headers = run_wsgi_app(app, environ)
        content = b"".join(app_iter)
        return AWSResponse(request.url, int(status.split()[0]), dict(headers), _Raw(content))

    made: dict[str, Any] = {}

    def make(name: str) -> Any:
        if name not in made:
            made[name] = boto3.session.Session().client(
                name, endpoint_url=URL, region_name="us-east-1", aws_access_key_id=key or "-",
                aws_secret_access_key=secret or "-",
                config=None if key else Config(signature_version=botocore.UNSIGNED))
            made[name].meta.events.register("before-send", send)
        return made[name]

    return make


_FUNCTIONS: dict[tuple[int, str], Any] = {}


def function(mw: AuthMiddleware, key: str = KEY) -> Any:
    """The clients of a function's key (made once: a boto3 client takes 0.1 s to make)."""
    if (id(mw), key) not in _FUNCTIONS:
        _FUNCTIONS[id(mw), key] = clients(mw, key, function_secret(SIGNING, key))
    return _FUNCTIONS[id(mw), key]


def denied(call: Any, code: str = "AccessDenied") -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == code, err.value.response
    return str(err.value.response["Error"].get("Message", ""))


def test_s3(endpoint: AuthMiddleware) -> None:
    s3 = function(endpoint)("s3")
    s3.put_object(Bucket="open", Key="in/a b+c.txt", Body=b"hello")
    assert s3.get_object(Bucket="open", Key="in/a b+c.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="open")["Contents"]] == ["in/a b+c.txt"]
    message = denied(lambda: s3.get_object(Bucket="closed", Key="a.txt"))
    assert "s3:GetObject on resource: arn:aws:s3:::closed/a.txt" in message
    assert "app-dev-worker" in message
    denied(lambda: s3.put_object(Bucket="closed", Key="b.txt", Body=b"x"))
    denied(lambda: s3.list_objects_v2(Bucket="closed"))
    denied(lambda: s3.delete_object(Bucket="open", Key="in/a b+c.txt"))  # no DeleteObject
    denied(lambda: s3.put_object(Bucket="open", Key="secret/x", Body=b"x"))  # Deny wins
    denied(lambda: s3.head_object(Bucket="closed", Key="a.txt"), "403")  # HEAD: no body
    denied(lambda: s3.copy_object(Bucket="open", Key="copy.txt",
                                  CopySource={"Bucket": "closed", "Key": "a.txt"}))
    denied(lambda: s3.delete_objects(Bucket="open", Delete={"Objects": [{"Key": "x"}]}))
    denied(lambda: s3.list_buckets())
    denied(lambda: s3.create_bucket(Bucket="new"))


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_s3_presigned_urls_carry_the_signers_grants(endpoint: AuthMiddleware,
                                                     version: str) -> None:
    s3 = function(endpoint)("s3")
    s3.put_object(Bucket="open", Key="p.txt", Body=b"shared")
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY,
        aws_secret_access_key=function_secret(SIGNING, KEY),
        config=Config(signature_version=version))

    def fetch(bucket: str, key: str) -> int:
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
        assert ("X-Amz-Credential" in url) == (version == "s3v4")
        path, _, query = url[len(URL):].partition("?")
        environ = EnvironBuilder(method="GET", base_url=URL, path=path,
                                 query_string=query).get_environ()
        environ["RAW_URI"] = url[len(URL):]
        _, status, _ = run_wsgi_app(endpoint, environ)
        return int(status.split()[0])

    assert fetch("open", "p.txt") == 200
    assert fetch("closed", "a.txt") == 403
    forged = clients(endpoint, KEY, "not-its-secret")("s3").generate_presigned_url(
        "get_object", Params={"Bucket": "open", "Key": "p.txt"})
    environ = EnvironBuilder(method="GET", base_url=URL, path=forged[len(URL):].split("?")[0],
                             query_string=forged.split("?", 1)[1]).get_environ()
    environ["RAW_URI"] = forged[len(URL):]
    assert run_wsgi_app(endpoint, environ)[1].startswith("403")


def test_s3_virtual_host_style_names_the_bucket_in_the_host() -> None:
    def environ(host: str, path: str) -> dict[str, Any]:
        return {"REQUEST_METHOD": "GET", "HTTP_HOST": host, "PATH_INFO": path,
                "QUERY_STRING": "", "HTTP_AUTHORIZATION":
                    f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/us-east-1/s3/aws4_request"}

    def checks(host: str, path: str) -> tuple[Any, ...]:
        call = request_call(environ(host, path), lambda: b"")
        assert call is not None
        return call.checks

    assert checks("closed.s3.amazonaws.com", "/open/a.txt") == (
        ("s3:GetObject", "arn:aws:s3:::closed/open/a.txt"),)
    assert checks("closed.localhost.localstack.cloud:4566", "/k") == (
        ("s3:GetObject", "arn:aws:s3:::closed/k"),)
    assert checks("127.0.0.1:4566", "/open/a.txt") == (
        ("s3:GetObject", "arn:aws:s3:::open/a.txt"),)
    assert checks("s3.us-east-1.amazonaws.com", "/open") == (
        ("s3:ListBucket", "arn:aws:s3:::open"),)


def test_sqs(endpoint: AuthMiddleware) -> None:
    sqs = function(endpoint)("sqs")
    admin = clients(endpoint, ADMIN_KEY, admin_secret(SIGNING))("sqs")
    open_url = admin.get_queue_url(QueueName="open")["QueueUrl"]
    closed_url = admin.get_queue_url(QueueName="closed")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="open")["QueueUrl"] == open_url
    sqs.send_message(QueueUrl=open_url, MessageBody="hi")
    sqs.send_message_batch(QueueUrl=open_url, Entries=[{"Id": "1", "MessageBody": "b"}])
    message = denied(lambda: sqs.send_message(QueueUrl=closed_url, MessageBody="hi"))
    assert f"sqs:SendMessage on resource: {ACCOUNT.arn('sqs', 'closed')}" in message
    denied(lambda: sqs.receive_message(QueueUrl=open_url))
    denied(lambda: sqs.list_queues())
    # The query protocol of older botocores names the same action and queue.
    assert sqs_checks("SendMessageBatch", {"QueueUrl": closed_url}, "/") == [
        ("sqs:SendMessage", ACCOUNT.arn("sqs", "closed"))]
    assert sqs_checks("ReceiveMessage", {}, "/000000000000/closed") == [
        ("sqs:ReceiveMessage", ACCOUNT.arn("sqs", "closed"))]


def test_sns(endpoint: AuthMiddleware) -> None:
    sns = function(endpoint)("sns")
    sns.publish(TopicArn=ACCOUNT.arn("sns", "open"), Message="hi")
    message = denied(lambda: sns.publish(TopicArn=ACCOUNT.arn("sns", "closed"), Message="hi"),
                     "AuthorizationError")  # SNS's code for it on AWS
    assert f"sns:Publish on resource: {ACCOUNT.arn('sns', 'closed')}" in message
    denied(lambda: sns.create_topic(Name="new"), "AuthorizationError")


def test_dynamodb(endpoint: AuthMiddleware) -> None:
    ddb = function(endpoint)("dynamodb")
    ddb.put_item(TableName="open", Item={"id": {"S": "1"}})
    assert ddb.get_item(TableName="open", Key={"id": {"S": "1"}})["Item"]["id"] == {"S": "1"}
    message = denied(lambda: ddb.put_item(TableName="closed", Item={"id": {"S": "1"}}),
                     "AccessDeniedException")
    assert f"dynamodb:PutItem on resource: {ACCOUNT.arn('dynamodb', 'table/closed')}" in message
    denied(lambda: ddb.scan(TableName="open"), "AccessDeniedException")
    denied(lambda: ddb.batch_write_item(RequestItems={"open": [
        {"PutRequest": {"Item": {"id": {"S": "2"}}}}]}), "AccessDeniedException")
    denied(lambda: ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "open", "Item": {"id": {"S": "3"}}}},
        {"Delete": {"TableName": "closed", "Key": {"id": {"S": "1"}}}}]),
        "AccessDeniedException")
    assert json_checks("DynamoDB_20120810", "Query", {"TableName": "t", "IndexName": "i"}) == [
        ("dynamodb:Query", ACCOUNT.arn("dynamodb", "table/t/index/i"))]
    assert json_checks("DynamoDB_20120810", "ExecuteStatement",
                       {"Statement": 'SELECT * FROM "t" WHERE id = ?'}) == [
        ("dynamodb:PartiQLSelect", ACCOUNT.arn("dynamodb", "table/t"))]


def test_kinesis(endpoint: AuthMiddleware) -> None:
    kinesis = function(endpoint)("kinesis")
    kinesis.put_record(StreamName="open", Data=b"x", PartitionKey="p")
    message = denied(lambda: kinesis.put_record(StreamName="closed", Data=b"x",
                                                PartitionKey="p"), "AccessDeniedException")
    assert f"kinesis:PutRecord on resource: {ACCOUNT.arn('kinesis', 'stream/closed')}" in message
    shard = kinesis.describe_stream(StreamName="open")["StreamDescription"]["Shards"][0]
    denied(lambda: kinesis.get_shard_iterator(StreamName="open", ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON"),
           "AccessDeniedException")
    iterator = base64.encodebytes(b"closed:shardId-000000000000:0").decode()
    assert json_checks("Kinesis_20131202", "GetRecords", {"ShardIterator": iterator}) == [
        ("kinesis:GetRecords", ACCOUNT.arn("kinesis", "stream/closed"))]


def test_eventbridge(endpoint: AuthMiddleware) -> None:
    clients(endpoint, ADMIN_KEY, admin_secret(SIGNING))("events").create_event_bus(Name="open")
    events = function(endpoint)("events")
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}"}
    events.put_events(Entries=[{**entry, "EventBusName": "open"}])
    message = denied(lambda: events.put_events(Entries=[entry]), "AccessDeniedException")
    assert f"events:PutEvents on resource: {ACCOUNT.arn('events', 'event-bus/default')}" in message
    denied(lambda: events.list_rules(), "AccessDeniedException")


def test_a_function_key_needs_its_own_signature_everywhere(endpoint: AuthMiddleware) -> None:
    forged = clients(endpoint, KEY, "not-its-secret")
    denied(lambda: forged("s3").get_object(Bucket="open", Key="x"), "SignatureDoesNotMatch")
    denied(lambda: forged("dynamodb").get_item(TableName="open", Key={"id": {"S": "1"}}),
           "InvalidSignatureException")
    denied(lambda: forged("sns").publish(TopicArn=ACCOUNT.arn("sns", "open"), Message="m"),
           "SignatureDoesNotMatch")


def test_other_keys_and_old_grants_are_not_restricted(endpoint: AuthMiddleware) -> None:
    admin = clients(endpoint, ADMIN_KEY, admin_secret(SIGNING))("s3")
    assert admin.get_object(Bucket="closed", Key="a.txt")["Body"].read() == b"closed"
    # Grants recorded before every service was enforced: only SSM, Secrets Manager and KMS.
    old = function(endpoint, OLD_KEY)
    assert old("s3").get_object(Bucket="closed", Key="a.txt")["Body"].read() == b"closed"
    denied(lambda: old("ssm").get_parameter(Name="/x"), "AccessDeniedException")
    # A function key the endpoint has no grants for may do nothing.
    unknown = function(endpoint, function_access_key("app-dev-gone", 1))
    denied(lambda: unknown("s3").get_object(Bucket="open", Key="p.txt"))



def test_only_the_platform_and_the_user_may_skip_grants(endpoint: AuthMiddleware) -> None:
    """A function cannot sign with a made-up key (or the platform's key id, or none) to skip
    its grants: other keys must be the platform's or the user's, signed with their secret."""
    assert clients(endpoint, USER_KEY, USER_SECRET)("s3").get_object(
        Bucket="closed", Key="a.txt")["Body"].read() == b"closed"
    for key, secret, code in [("AKIAMADEUP0000000001", "x", "InvalidAccessKeyId"),
                              (ADMIN_KEY, ADMIN_KEY, "SignatureDoesNotMatch"),
                              (USER_KEY, "wrong", "SignatureDoesNotMatch")]:
        with pytest.raises(ClientError) as caught:
            clients(endpoint, key, secret)("s3").get_object(Bucket="closed", Key="a.txt")
        assert caught.value.response["Error"]["Code"] == code, key
    with pytest.raises(ClientError) as caught:
        clients(endpoint, "AKIAMADEUP0000000001", "x")("ssm").get_parameter(Name="/any")
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    unsigned = clients(endpoint, "", "")  # no signature at all
    with pytest.raises(ClientError) as caught:
        unsigned("sqs").get_queue_url(QueueName="closed")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
