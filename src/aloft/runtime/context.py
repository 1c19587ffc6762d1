"""A Lambda-like context object, built from the AWS_LAMBDA_* environment and a deadline.

AWS passes its own context object; the local cloud and `aloft invoke --local` pass this one, which
has the same attributes, so user code cannot tell the difference.
"""

from __future__ import annotations

import os
import sys
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

    def __repr__(self) -> str:
        return "Client([" + ",".join(f"{n}={getattr(self, n)}" for n in (
            "installation_id", "app_title", "app_version_name", "app_version_code",
            "app_package_name")) + "])"


W3C_FIELDS = ("traceparent", "tracestate", "baggage")
"""What `context.w3c()` keeps of a ClientContext's `w3c` (Lambda's runtime allows these)."""


class ClientContext:
    """`context.client_context`: the Invoke API's `ClientContext` (base64 JSON in the
    X-Amz-Client-Context header), for synchronous invocations; None otherwise."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, client: Client | None, custom: object, env: object) -> None:
        self.client = client
        self.custom = custom
        self.env = env

    @classmethod
    def _from_dict(cls, data: Mapping[str, object]) -> ClientContext:  # private: not Lambda's
        client = data.get("client")
        return cls(Client(client) if isinstance(client, Mapping) else None,
                   data.get("custom"), data.get("env"))

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


class CognitoIdentity:
    """`context.identity`: the Amazon Cognito identity that authorised the request (its ids
    are None for any other caller, as on Lambda: the object is always there)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self) -> str:
        return (f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
                f"cognito_identity_pool_id={self.cognito_identity_pool_id}])")


class LambdaContext:
    """What a handler's `context` argument offers on AWS Lambda, with the same types: Lambda's
    runtime reads `memory_limit_in_mb` from the environment and leaves it a string."""

    __slots__ = (
        "_deadline",
        "_w3c",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str = "$LATEST",
        invoked_function_arn: str = "",
        memory_limit_in_mb: str = "128",
        aws_request_id: str | None = None,
        log_group_name: str = "",
        log_stream_name: str = "",
        deadline: float | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id or new_request_id()
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity: CognitoIdentity = CognitoIdentity()
        self.client_context: object | None = None
        self.tenant_id: str | None = None
        self._w3c: dict[str, str] = {}
        # A time.monotonic() instant: wall-clock jumps must not change the remaining time.
        self._deadline = deadline if deadline is not None else time.monotonic() + DEFAULT_TIMEOUT_S

    def w3c(self) -> dict[str, str]:
        """The W3C trace context the invocation came with (the ClientContext's `w3c`:
        traceparent, tracestate, baggage), as Lambda's runtime gives it."""
        return dict(self._w3c)

    def _set_client_context(self, data: object) -> None:
        """The Invoke API's ClientContext (decoded JSON) as Lambda's runtime reads it: its
        `w3c` fields go to `w3c()` and out of `client_context`."""
        if not isinstance(data, Mapping):
            return
        w3c = data.get("w3c")
        self._w3c = {k: v for k in W3C_FIELDS if isinstance(w3c, Mapping)
                     and isinstance(v := w3c.get(k), str)}
        self.client_context = ClientContext._from_dict(data)

    @classmethod
    def _from_environ(  # private: Lambda's context has no such attribute (dir() shows it)
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
            memory_limit_in_mb=env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or "128",
            aws_request_id=request_id,
            log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}"),
            log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            deadline=deadline,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: object) -> None:
        """Write `message` to the function's log as is (no newline added), as Lambda's
        `context.log` does."""
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )
