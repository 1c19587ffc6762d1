"""A Lambda-like context object, built from the AWS_LAMBDA_* environment and a deadline.

AWS passes its own context object; the local cloud and `aloft invoke --local` pass this one, which
has the same attributes, so user code cannot tell the difference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

DEFAULT_TIMEOUT_S = 30


def new_request_id() -> str:
    """A random (version 4) UUID, without importing uuid (slow to import: cold starts)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Client:
    """`context.client_context.client`: the calling app, as the Invoke API's ClientContext names
    it (Lambda's Python runtime gives the same attributes)."""

    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name",
                 "installation_id")

    def __init__(self, data: Mapping[str, object]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    """`context.client_context`: the Invoke API's `ClientContext` (base64 JSON in the
    X-Amz-Client-Context header), for synchronous invocations; None otherwise."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, client: Client | None, custom: object, env: object) -> None:
        self.client = client
        self.custom = custom
        self.env = env

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ClientContext:
        client = data.get("client")
        return cls(Client(client) if isinstance(client, Mapping) else None,
                   data.get("custom"), data.get("env"))

    def __repr__(self) -> str:
        return f"ClientContext(custom={self.custom!r}, env={self.env!r})"


class LambdaContext:
    """What a handler's `context` argument offers on AWS Lambda."""

    __slots__ = (
        "_deadline",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str = "$LATEST",
        invoked_function_arn: str = "",
        memory_limit_in_mb: int = 128,
        aws_request_id: str | None = None,
        log_group_name: str = "",
        log_stream_name: str = "",
        deadline: float | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or new_request_id()
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity: object | None = None
        self.client_context: object | None = None
        # A time.monotonic() instant: wall-clock jumps must not change the remaining time.
        self._deadline = deadline if deadline is not None else time.monotonic() + DEFAULT_TIMEOUT_S

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        request_id: str | None = None,
        timeout_s: float | None = None,
        deadline: float | None = None,
    ) -> LambdaContext:
        """A context for this instance: names from AWS_LAMBDA_*, a deadline from `timeout_s`
        (else `ALOFT_TIMEOUT`, else 30 s) unless an explicit monotonic `deadline` is given."""
        env = os.environ if environ is None else environ
        name = env.get("AWS_LAMBDA_FUNCTION_NAME", "aloft-local")
        version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        account = env.get("ALOFT_ACCOUNT_ID", "000000000000")
        if deadline is None:
            if timeout_s is None:
                timeout_s = float(env.get("ALOFT_TIMEOUT") or DEFAULT_TIMEOUT_S)
            deadline = time.monotonic() + timeout_s
        return cls(
            function_name=name,
            function_version=version,
            invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{name}",
            memory_limit_in_mb=int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 128),
            aws_request_id=request_id,
            log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}"),
            log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            deadline=deadline,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )
