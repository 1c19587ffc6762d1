"""The one façade over boto3: sessions, retries, waiters, call counting and error translation.

Nothing else in aloft imports boto3. Every call goes through `AwsClient.call`, which counts it
(per operation, for the figures), adds the bytes it uploads, and turns botocore exceptions into
aloft errors at this boundary.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
import botocore.config  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]
import botocore.loaders  # type: ignore[import-untyped]

from aloft.aws.errors import AwsNotFound, error_code, translate
from aloft.aws.names import Account
from aloft.errors import DeployError, Location

_RETRIES = botocore.config.Config(retries={"max_attempts": 8, "mode": "standard"})
# Invoking runs the function: wait as long as Lambda lets one run (15 minutes). botocore's
# retries would send it again after a read timeout, a connection closed mid-answer or a 5xx,
# any of which may come after the function ran: `call` retries only what never reached it.
_INVOKE = botocore.config.Config(read_timeout=905, retries={"total_max_attempts": 1})
INVOKE_ATTEMPTS = 3
"""Attempts of one Invoke that was throttled or never connected (the SDKs' standard three)."""
# Lambda refused to run it: throttled (concurrency, rate) or not yet ready after a deploy.
_NOT_RUN_CODES = frozenset({"TooManyRequestsException", "ThrottlingException",
                            "EC2ThrottledException", "ResourceNotReadyException"})
# The connection was never made, so the request never left.
_NOT_SENT = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)
# IAM is eventually consistent: a new role or policy takes seconds to reach Lambda.
_ROLE_NOT_READY = ("cannot be assumed by Lambda", "execution role does not have permissions")
# Service models are large JSON files: parse each once per process, not once per session.
_LOADER = botocore.loaders.create_loader()


def _op_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def _backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 2`: exponential with full jitter, as the SDKs wait."""
    return random.uniform(0.0, min(0.5 * 2 ** attempt, 5.0))


def _payload_size(params: dict[str, Any]) -> int:
    for key in ("Body", "ZipFile"):
        body = params.get(key)
        if isinstance(body, bytes | bytearray):
            return len(body)
    content = params.get("Content")
    if isinstance(content, dict) and isinstance(content.get("ZipFile"), bytes):
        return len(content["ZipFile"])
    return 0


_INVOKER = "lambda#invoke"
PARALLEL_CALLS = 8
"""At most this many calls at once (`AwsClient.parallel`): under every service's rate limit."""
"""The Lambda client that invokes (its own timeouts; its calls count as `lambda.Invoke`)."""


@dataclass(frozen=True)
class Invoked:
    """A synchronous invocation's outcome."""

    payload: bytes
    errored: bool  # Lambda's FunctionError: the payload is the function's error object
    logs: str  # the tail of its log (the last 4 KB)


class AwsClient:
    """boto3 for one region and profile, behind typed methods that count what they do."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        where: Location | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.where = where
        self.poll_seconds = poll_seconds
        self.calls: Counter[str] = Counter()
        self.bytes_uploaded = 0
        self._clients: dict[str, Any] = {}
        self._account: Account | None = None
        self._lock = threading.Lock()  # clients are made once; counts from several threads
        try:
            self._session = boto3.session.Session(profile_name=profile, region_name=region)
            self._session._session.register_component("data_loader", _LOADER)
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, "session", where) from None
        if not self._session.region_name:
            raise translate(botocore.exceptions.NoRegionError(), "session", where)

    @property
    def region(self) -> str:
        return str(self._session.region_name)

    @property
    def account(self) -> Account:
        """The caller's account (one STS call, cached)."""
        if self._account is None:
            ident = self.call("sts", "get_caller_identity")
            partition = str(ident["Arn"]).split(":")[1]
            self._account = Account(str(ident["Account"]), self.region, partition)
        return self._account

    def _client(self, service: str) -> Any:
        with self._lock:  # a boto3 session is not thread-safe; its clients are
            if service not in self._clients:
                config = _INVOKE if service == _INVOKER else _RETRIES
                self._clients[service] = self._session.client(service.split("#")[0],
                                                              config=config)
            return self._clients[service]

    def _count(self, label: str) -> None:
        with self._lock:
            self.calls[label] += 1

    def _count_bytes(self, uploaded: int) -> None:
        with self._lock:
            self.bytes_uploaded += uploaded

    def parallel(self, *work: Callable[[], Any]) -> list[Any]:
        """Independent calls at once (each a few API calls), their results in order; the
        first error is raised once all have finished."""
        if len(work) < 2:
            return [w() for w in work]
        with ThreadPoolExecutor(max_workers=min(len(work), PARALLEL_CALLS)) as pool:
            futures = [pool.submit(w) for w in work]
            return [f.result() for f in futures]

    def invoke(self, function: str, qualifier: str, payload: bytes) -> Invoked:
        """Run one synchronous invocation of `function:qualifier` (with the log tail)."""
        got = self.call(_INVOKER, "invoke", FunctionName=function, Qualifier=qualifier,
                        Payload=payload, InvocationType="RequestResponse", LogType="Tail")
        logs = got.get("LogResult")
        return Invoked(got["Payload"].read(), bool(got.get("FunctionError")),
                       base64.b64decode(logs).decode("utf-8", "replace") if logs else "")

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One API call, e.g. call("lambda", "get_function", FunctionName="x")."""
        label = f"{service.split('#')[0]}.{_op_name(operation)}"
        method = getattr(self._client(service), operation)
        for attempt in range(12):
            self._count(label)
            try:
                result = method(**params)
            except botocore.exceptions.ClientError as exc:
                if any(m in str(exc) for m in _ROLE_NOT_READY) and attempt < 11:
                    time.sleep(min(2.0 * (attempt + 1), 10.0))
                    continue
                if service == _INVOKER and error_code(exc) in _NOT_RUN_CODES and \
                        attempt + 1 < INVOKE_ATTEMPTS:
                    time.sleep(_backoff(attempt))
                    continue
                raise translate(exc, label, self.where) from None
            except _NOT_SENT as exc:
                if service == _INVOKER and attempt + 1 < INVOKE_ATTEMPTS:
                    time.sleep(_backoff(attempt))
                    continue
                raise translate(exc, label, self.where) from None
            except botocore.exceptions.BotoCoreError as exc:
                raise translate(exc, label, self.where) from None
            self._count_bytes(_payload_size(params))
            return dict(result)
        raise AssertionError("unreachable")

    def find(self, service: str, operation: str, **params: Any) -> dict[str, Any] | None:
        """Like `call`, but None when the resource does not exist."""
        try:
            return self.call(service, operation, **params)
        except AwsNotFound:
            return None

    def pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        """Every item under `key` across all pages of a list operation."""
        label = f"{service}.{_op_name(operation)}"
        paginator = self._client(service).get_paginator(operation)
        try:
            for page in paginator.paginate(**params):
                self._count(label)
                yield from page.get(key, [])
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, label, self.where) from None

    def upload_file(self, bucket: str, key: str, path: str) -> None:
        with open(path, "rb") as fh:
            body = fh.read()
        self.call("s3", "put_object", Bucket=bucket, Key=key, Body=body)

    def wait_function_ready(self, name: str, timeout: float = 300.0,
                            qualifier: str | None = None) -> None:
        """Until the function (or its version `qualifier`: a SnapStart version is Pending while
        its snapshot is taken) is Active and its last update Successful (Lambda's own
        waiters)."""
        deadline = time.monotonic() + timeout
        where = {"Qualifier": qualifier} if qualifier else {}
        while True:
            conf = self.call("lambda", "get_function_configuration", FunctionName=name, **where)
            state = conf.get("State", "Active")
            update = conf.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = conf.get("StateReason") or conf.get("LastUpdateStatusReason") or ""
                if qualifier:
                    raise DeployError(
                        f"version {qualifier} of {name} failed to become ready: {reason}",
                        where=self.where,
                        fix="its SnapStart snapshot could not be taken: the init or a "
                            "@register_before_snapshot hook failed (its log group says why)")
                raise DeployError(f"function {name} failed to become ready: {reason}",
                                  where=self.where,
                                  fix="check the function's configuration (role, VPC, layers)")
            if state == "Active" and update in ("Successful", None):
                return
            if time.monotonic() > deadline:
                raise DeployError(f"function {name} is still {state}/{update} after "
                                  f"{timeout:.0f}s", where=self.where,
                                  fix="run the deploy again: it completes what is left")
            time.sleep(self.poll_seconds)

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())
