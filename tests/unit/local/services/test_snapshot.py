"""The endpoint's snapshot: moto's backends pickled (locks, private keys and defaultdicts with
lambda factories included), encrypted, and loaded back."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
from moto import mock_aws

from aloft.local.services.snapshot import SnapshotFile, dump_backends, load_backends

KW = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


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
