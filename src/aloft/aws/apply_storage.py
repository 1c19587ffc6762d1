"""Apply steps for the deployment bucket, artifacts, role, declared resources and logs."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_base import ApplyContext, Undo, aws_tags
from aloft.aws.policy import ASSUME_ROLE_POLICY
from aloft.aws.record import Release, StateRecord
from aloft.aws.secrets import AwsSecrets
from aloft.aws.state import LAYER_MARK
from aloft.aws.static import REFERER_REF, bucket_policy
from aloft.errors import AloftError, DeployError
from aloft.stage import late as lt
from aloft.stage.names import secret_key_alias
from aloft.stage.resources import public_read_policy


class StorageSteps(ApplyContext):
    """Buckets, objects, the layer, the role, queues, topics, tables, parameters, log groups."""

    def _create_bucket(self, name: str) -> None:
        params: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.aws.call("s3", "create_bucket", **params)

    def _block_public(self, name: str) -> None:
        self.aws.call("s3", "put_public_access_block", Bucket=name,
                      PublicAccessBlockConfiguration={
                          "BlockPublicAcls": True, "IgnorePublicAcls": True,
                          "BlockPublicPolicy": True, "RestrictPublicBuckets": True})

    def _do_CreateDeploymentBucket(self, x: st.CreateDeploymentBucket) -> Undo:
        self._create_bucket(x.bucket)
        undo: Undo = [st.DeleteBucket(x.bucket)]
        self.aws.parallel(  # four settings of one bucket, independent of each other
            lambda: self.aws.call("s3", "put_bucket_versioning", Bucket=x.bucket,
                                  VersioningConfiguration={"Status": "Enabled"}),
            lambda: self.aws.call("s3", "put_bucket_encryption", Bucket=x.bucket,
                                  ServerSideEncryptionConfiguration={"Rules": [
                                      {"ApplyServerSideEncryptionByDefault": {
                                          "SSEAlgorithm": "AES256"}}]}),
            lambda: self._block_public(x.bucket),
            lambda: self.aws.call("s3", "put_bucket_tagging", Bucket=x.bucket,
                                  Tagging={"TagSet": aws_tags(x.tags)}))
        return undo

    def _do_UploadObject(self, x: st.UploadObject) -> Undo:
        self.aws.upload_file(x.bucket, x.key, x.path)
        return []

    def _do_PublishLayer(self, x: st.PublishLayer) -> Undo:
        got = self.aws.call("lambda", "publish_layer_version", LayerName=x.name,
                            Description=f"{LAYER_MARK}{x.sha256}",
                            Content={"S3Bucket": x.bucket, "S3Key": x.key},
                            CompatibleRuntimes=[x.runtime],
                            CompatibleArchitectures=list(x.architectures))
        self.refs["layer"] = str(got["LayerVersionArn"])
        return [st.DeleteLayerVersion(self.refs["layer"])]

    def _do_CreateRole(self, x: st.CreateRole) -> Undo:
        self.aws.call("iam", "create_role", RoleName=x.name,
                      AssumeRolePolicyDocument=ASSUME_ROLE_POLICY, Tags=aws_tags(x.tags),
                      Description="aloft: the role of a service stage's functions")
        return [st.DeleteRole(x.name, "aloft")]

    def _do_CreateSecretKey(self, x: st.CreateSecretKey) -> Undo:
        self.refs[lt.SECRET_KEY] = AwsSecrets(self.aws, self.service, self.stage).key_arn()
        return []

    def _do_PutRolePolicy(self, x: st.PutRolePolicy) -> Undo:
        self.aws.call("iam", "put_role_policy", RoleName=x.role, PolicyName=x.policy_name,
                      PolicyDocument=lt.fill(x.document, self.refs))
        return []

    def _do_CreateBucket(self, x: st.CreateBucket) -> Undo:
        self._create_bucket(x.spec.name)
        undo: Undo = [st.DeleteBucket(x.spec.name)]
        if x.spec.versioning:
            self.aws.call("s3", "put_bucket_versioning", Bucket=x.spec.name,
                          VersioningConfiguration={"Status": "Enabled"})
        self.aws.call("s3", "put_bucket_tagging", Bucket=x.spec.name,
                      Tagging={"TagSet": aws_tags(x.tags)})
        self._do_SetBucketPublic(st.SetBucketPublic(x.spec.name, x.spec.public))
        return undo

    def _do_SetBucketPublic(self, x: st.SetBucketPublic) -> Undo:
        if not x.public:
            self.aws.find("s3", "delete_bucket_policy", Bucket=x.bucket)
            self._block_public(x.bucket)
            return []
        # New buckets block public policies: lift the bucket's own block (ACLs stay blocked),
        # then the same public-read policy as the local cloud's.
        self.aws.call("s3", "put_public_access_block", Bucket=x.bucket,
                      PublicAccessBlockConfiguration={
                          "BlockPublicAcls": True, "IgnorePublicAcls": True,
                          "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        arn = f"arn:{self.aws.account.partition}:s3:::{x.bucket}"
        try:
            self.aws.call("s3", "put_bucket_policy", Bucket=x.bucket,
                          Policy=public_read_policy(arn))
        except AloftError as exc:
            if "AccessDenied" not in exc.message and "public" not in exc.message.lower():
                raise
            raise DeployError(
                f"bucket {x.bucket} cannot be made public: {exc.message}",
                where=exc.where,
                fix="the account's S3 Block Public Access forbids public bucket policies: "
                    "lift it for the account (`aws s3control put-public-access-block`), or "
                    "set `public: false` and serve the files another way") from None
        return []

    def _do_CreateStaticBucket(self, x: st.CreateStaticBucket) -> Undo:
        self._create_bucket(x.bucket)
        undo: Undo = [st.DeleteBucket(x.bucket)]
        self.aws.call("s3", "put_bucket_tagging", Bucket=x.bucket,
                      Tagging={"TagSet": aws_tags(x.tags)})
        self._do_PutStaticPolicy(st.PutStaticPolicy(x.bucket))
        return undo

    def _do_PutStaticPolicy(self, x: st.PutStaticPolicy) -> Undo:
        # ACLs stay blocked; the one policy (GetObject with the secret Referer) counts as
        # public for S3's checks, so those two blocks are off for this bucket only.
        self.aws.call("s3", "put_public_access_block", Bucket=x.bucket,
                      PublicAccessBlockConfiguration={
                          "BlockPublicAcls": True, "IgnorePublicAcls": True,
                          "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        referer = secrets.token_urlsafe(32)
        self.aws.call("s3", "put_bucket_policy", Bucket=x.bucket,
                      Policy=bucket_policy(x.bucket, self.aws.account.partition, referer,
                                           (self.cdn or {}).get("arn")))
        self.refs[REFERER_REF] = referer
        return []

    def _do_SyncStatic(self, x: st.SyncStatic) -> Undo:
        for f in x.upload:
            with open(f.path, "rb") as fh:
                body = fh.read()
            self.aws.call("s3", "put_object", Bucket=x.bucket, Key=f.key, Body=body,
                          ContentType=f.content_type, CacheControl=x.cache_control)
        for i in range(0, len(x.delete), 1000):
            self.aws.call("s3", "delete_objects", Bucket=x.bucket, Delete={
                "Objects": [{"Key": k} for k in x.delete[i:i + 1000]], "Quiet": True})
        self._invalidate([f.key for f in x.upload] + list(x.delete))
        return []

    def _queue_attributes(self, q: s.QueueSpec) -> dict[str, str]:
        attrs = {"VisibilityTimeout": str(q.visibility_timeout),
                 "MessageRetentionPeriod": str(q.retention)}
        if q.dead_letter:
            arn = self.aws.account.arn("sqs", q.dead_letter)
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": q.max_receives})
        return attrs

    def _do_CreateQueue(self, x: st.CreateQueue) -> Undo:
        attrs = self._queue_attributes(x.spec)
        if x.spec.fifo:
            attrs["FifoQueue"] = "true"
        self.aws.call("sqs", "create_queue", QueueName=x.spec.name, Attributes=attrs,
                      tags=dict(x.tags))
        return [st.DeleteQueue(x.spec.name)]

    def _do_SetQueueAttributes(self, x: st.SetQueueAttributes) -> Undo:
        url = self.aws.call("sqs", "get_queue_url", QueueName=x.spec.name)["QueueUrl"]
        self.aws.call("sqs", "set_queue_attributes", QueueUrl=url,
                      Attributes=self._queue_attributes(x.spec))
        return []

    def _do_CreateTopic(self, x: st.CreateTopic) -> Undo:
        got = self.aws.call("sns", "create_topic", Name=x.spec.name, Tags=aws_tags(x.tags))
        return [st.DeleteTopic(str(got["TopicArn"]))]

    def _do_CreateTable(self, x: st.CreateTable) -> Undo:
        t = x.spec
        keys = [{"AttributeName": t.hash_key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": t.hash_key, "AttributeType": t.hash_type}]
        if t.range_key:
            keys.append({"AttributeName": t.range_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": t.range_key, "AttributeType": t.range_type})
        params: dict[str, Any] = {"TableName": t.name, "KeySchema": keys,
                                  "AttributeDefinitions": attrs, "BillingMode": "PAY_PER_REQUEST",
                                  "Tags": aws_tags(x.tags)}
        if t.stream:
            params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": t.stream}
        got = self.aws.call("dynamodb", "create_table", **params)["TableDescription"]
        while got.get("TableStatus", "ACTIVE") != "ACTIVE":
            time.sleep(self.aws.poll_seconds)
            got = self.aws.call("dynamodb", "describe_table", TableName=t.name)["Table"]
        if got.get("LatestStreamArn"):
            self.refs[f"stream:{t.name}"] = str(got["LatestStreamArn"])
        if t.ttl:
            self.aws.call("dynamodb", "update_time_to_live", TableName=t.name,
                          TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl})
        return [st.DeleteTable(t.name)]

    def _do_PutParameter(self, x: st.PutParameter) -> Undo:
        p = x.spec
        params: dict[str, Any] = {"Name": p.name, "Value": p.value or "",
                                  "Type": "SecureString" if p.secure else "String",
                                  "Overwrite": x.overwrite}
        if p.description:
            params["Description"] = p.description
        if p.secure:  # with the stage key, as `aloft secret set` and the local cloud do
            params["KeyId"] = secret_key_alias(self.service, self.stage)
        if not x.overwrite:
            params["Tags"] = aws_tags(x.tags)
        self.aws.call("ssm", "put_parameter", **params)
        return [] if x.overwrite else [st.DeleteParameter(p.name)]

    def _do_CreateLogGroup(self, x: st.CreateLogGroup) -> Undo:
        self.aws.call("logs", "create_log_group", logGroupName=x.name, tags=dict(x.tags))
        if x.retention:
            self.aws.call("logs", "put_retention_policy", logGroupName=x.name,
                          retentionInDays=x.retention)
        return [st.DeleteLogGroup(x.name)]

    def _do_PutRetention(self, x: st.PutRetention) -> Undo:
        if x.retention:
            self.aws.call("logs", "put_retention_policy", logGroupName=x.name,
                          retentionInDays=x.retention)
        else:
            self.aws.call("logs", "delete_retention_policy", logGroupName=x.name)
        return []

    def _do_DeleteLogGroup(self, x: st.DeleteLogGroup) -> Undo:
        self._ignore_missing("logs", "delete_log_group", logGroupName=x.name)
        return []

    def _do_DeleteRole(self, x: st.DeleteRole) -> Undo:
        self._ignore_missing("iam", "delete_role_policy", RoleName=x.name,
                             PolicyName=x.policy_name)
        self._ignore_missing("iam", "delete_role", RoleName=x.name)
        return []

    def _do_DeleteLayerVersion(self, x: st.DeleteLayerVersion) -> Undo:
        parts = x.arn.split(":")
        self._ignore_missing("lambda", "delete_layer_version", LayerName=parts[6],
                             VersionNumber=int(parts[7]))
        return []

    def _empty(self, bucket: str, prefix: str = "") -> None:
        for page_key in ("Versions", "DeleteMarkers"):
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in
                    self.aws.pages("s3", "list_object_versions", page_key, Bucket=bucket,
                                   Prefix=prefix)]
            for i in range(0, len(keys), 1000):
                self.aws.call("s3", "delete_objects", Bucket=bucket,
                              Delete={"Objects": keys[i:i + 1000], "Quiet": True})

    def _do_DeleteBucket(self, x: st.DeleteBucket) -> Undo:
        if self.aws.find("s3", "head_bucket", Bucket=x.bucket) is None:
            return []
        self._empty(x.bucket)
        self._ignore_missing("s3", "delete_bucket", Bucket=x.bucket)
        return []

    def _do_DeleteObjects(self, x: st.DeleteObjects) -> Undo:
        self._empty(x.bucket, x.prefix)
        return []

    def _do_DeleteQueue(self, x: st.DeleteQueue) -> Undo:
        url = self.aws.find("sqs", "get_queue_url", QueueName=x.name)
        if url is not None:
            self._ignore_missing("sqs", "delete_queue", QueueUrl=url["QueueUrl"])
        return []

    def _do_DeleteTopic(self, x: st.DeleteTopic) -> Undo:
        self._ignore_missing("sns", "delete_topic", TopicArn=x.arn)
        return []

    def _do_DeleteTable(self, x: st.DeleteTable) -> Undo:
        self._ignore_missing("dynamodb", "delete_table", TableName=x.name)
        return []

    def _do_DeleteParameter(self, x: st.DeleteParameter) -> Undo:
        self._ignore_missing("ssm", "delete_parameter", Name=x.name)
        return []

    def _do_WriteState(self, x: st.WriteState) -> Undo:
        record = StateRecord.from_json(x.record_json)
        record = dataclasses.replace(record, api=self.api, cdn=self.cdn)
        if x.release:
            last = record.current
            self.release = Release((last.number if last else 0) + 1, dict(self.versions),
                                   self.code_sha256, time.time(), x.rules, x.routes)
            record = dataclasses.replace(record, releases=(*record.releases, self.release))
        else:
            self.release = record.current
        self.aws.call("s3", "put_object", Bucket=x.bucket, Key=x.key,
                      Body=record.to_json().encode(), ContentType="application/json")
        return []
