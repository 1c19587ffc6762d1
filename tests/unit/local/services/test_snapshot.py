"""The endpoint's snapshot: moto's backends pickled (locks, private keys and defaultdicts with
lambda factories included), encrypted, and loaded back."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aloft.local.services.account import ACCOUNT_ID, LEGACY_ACCOUNT_ID
from aloft.local.services.snapshot import (
    SnapshotFile,
    dump_backends,
    from_legacy_account,
    load_backends,
)

KW = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


@pytest.fixture(autouse=True)
def local_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT_ID)  # as moto_server.py runs moto


def test_backends_round_trip_through_an_encrypted_file(tmp_path: Path) -> None:
    snap = SnapshotFile(tmp_path / "aws")
    with mock_aws():
        boto3.client("s3", **KW).create_bucket(Bucket="kept")
        boto3.client("s3", **KW).put_object(Bucket="kept", Key="k", Body=b"object-body")
        sqs = boto3.client("sqs", **KW)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]  # queues hold an RLock
        sqs.send_message(QueueUrl=url, MessageBody="m")
        kms = boto3.client("kms", **KW)
        key = kms.create_key()["KeyMetadata"]["KeyId"]  # an RSA private key inside
        blob = kms.encrypt(KeyId=key, Plaintext=b"p")["CiphertextBlob"]
        ssm = boto3.client("ssm", **KW)  # tags in a defaultdict(lambda: ...)
        ssm.put_parameter(Name="/a/secret", Value="param-secret", Type="SecureString")
        snap.save(dump_backends())
    assert b"object-body" not in snap.path.read_bytes()
    assert b"param-secret" not in snap.path.read_bytes()
    assert os.stat(snap.key_path).st_mode & 0o777 == 0o600

    with mock_aws():  # a fresh, empty moto
        assert boto3.client("s3", **KW).list_buckets()["Buckets"] == []
        data = snap.load()
        assert data is not None
        load_backends(data)
        s3 = boto3.client("s3", **KW)
        assert s3.get_object(Bucket="kept", Key="k")["Body"].read() == b"object-body"
        sqs = boto3.client("sqs", **KW)
        url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"
        assert boto3.client("kms", **KW).decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"
        value = boto3.client("ssm", **KW).get_parameter(Name="/a/secret", WithDecryption=True)
        assert value["Parameter"]["Value"] == "param-secret"


def test_no_snapshot_yet(tmp_path: Path) -> None:
    assert SnapshotFile(tmp_path / "aws").load() is None


def test_a_home_of_the_legacy_account_moves_to_the_local_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", LEGACY_ACCOUNT_ID)  # made by an older aloft
    body = f"an object that mentions {LEGACY_ACCOUNT_ID}".encode()
    with mock_aws():
        s3 = boto3.client("s3", **KW)
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k", Body=body)
        sqs = boto3.client("sqs", **KW)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sns = boto3.client("sns", **KW)
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        assert f":{LEGACY_ACCOUNT_ID}:" in topic
        data = dump_backends()

    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT_ID)
    with mock_aws():
        assert load_backends(data) is True
        sqs = boto3.client("sqs", **KW)
        url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
        assert f"/{ACCOUNT_ID}/" in url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        assert arn == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:q"
        sns = boto3.client("sns", **KW)
        topic = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:t"
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [s["Endpoint"] for s in subs] == [arn]
        sns.publish(TopicArn=topic, Message="delivered")  # across services, in the new account
        messages = sqs.receive_message(QueueUrl=url)["Messages"]
        assert "delivered" in messages[0]["Body"]
        s3 = boto3.client("s3", **KW)
        assert s3.get_object(Bucket="kept", Key="k")["Body"].read() == body  # data untouched


def test_only_the_account_id_and_its_arns_and_urls_move() -> None:
    old, new = LEGACY_ACCOUNT_ID, ACCOUNT_ID
    data = pickle.dumps({old: {"arn": f"arn:aws:sqs:us-east-1:{old}:q",
                               "root": f"arn:aws:iam::{old}", "url": f"http://h/{old}/q",
                               "note": f"order {old}", "blob": old.encode(),
                               "big": "x" * 300 + f":{old}:"}}, protocol=pickle.HIGHEST_PROTOCOL)
    moved = pickle.loads(from_legacy_account(data))
    assert moved == {new: {"arn": f"arn:aws:sqs:us-east-1:{new}:q",
                           "root": f"arn:aws:iam::{new}", "url": f"http://h/{new}/q",
                           "note": f"order {old}", "blob": old.encode(),
                           "big": "x" * 300 + f":{new}:"}}
    again = pickle.dumps(moved, protocol=pickle.HIGHEST_PROTOCOL)
    assert from_legacy_account(again) is again  # nothing left to move
