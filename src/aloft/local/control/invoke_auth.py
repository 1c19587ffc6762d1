"""Who may call Lambda's Invoke API (and the rest of Lambda's API: lambda_api.py), as AWS decides
it: a SigV4-signed request, by a known key.

Two kinds of keys sign requests to it:

- a function version's own key (the AWS_ACCESS_KEY_ID the platform gives it, with a secret only
  that version holds: aloft.local.services.sigv4): boto3's lambda client and `@aloft.task` inside
  a function use it. The function may invoke what its grants allow (`lambda:InvokeFunction`:
  its `@aloft.task` target, or `permissions`), as its role decides on AWS;
- the user's own credentials (user_credentials.py): scripts and the AWS CLI, allowed everything.
  (The CLI's `aloft invoke` goes through the control API and its token instead.)

Anything else gets AWS's answer: 403 `MissingAuthenticationTokenException` without a signature,
`UnrecognizedClientException` for a key nobody was given, `InvalidSignatureException` for a
wrong signature, scope or clock (AWS allows 5 minutes either way), `AccessDeniedException`
without the grant. Pure over what the caller passes in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aloft.local.control.invoke_api import Reply, function_arn
from aloft.local.services.account import ACCOUNT
from aloft.local.services.auth import Statement, is_allowed
from aloft.local.services.sigv4 import Authorization, header_signature_ok
from aloft.stage.names import StageNames

INVOKE = "lambda:InvokeFunction"
SKEW = timedelta(minutes=5)
_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class FunctionKey:
    """What the platform knows of a function version's access key."""

    function: str  # the physical name of the version the key was given to
    secret: str
    statements: list[Statement]


@dataclass(frozen=True)
class Caller:
    access_key: str
    function: FunctionKey | None  # None: the user


@dataclass(frozen=True)
class Request:
    """The parts of an Invoke API request a signature covers."""

    method: str
    path: str  # as sent (percent-encoded)
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def denied(status: int, kind: str, message: str, request_id: str) -> Reply:
    """An authentication error as AWS's front end answers it: `{"message"}` and the type in
    X-Amzn-ErrorType (botocore reads both)."""
    return Reply(status, json.dumps({"message": message}).encode(), {
        "Content-Type": "application/json", "X-Amzn-ErrorType": kind,
        "X-Amzn-RequestId": request_id})


def authenticate(request: Request, function_key: Callable[[str], FunctionKey | None],
                 user_secret: Callable[[str], str | None], request_id: str,
                 now: datetime | None = None) -> Caller | Reply:
    """Who signed `request`, or the 403 to answer."""
    header = request.headers.get("authorization")
    if not header:
        return denied(403, "MissingAuthenticationTokenException", "Missing Authentication Token",
                      request_id)
    auth = Authorization.parse(header)
    if auth is None:
        return denied(403, "IncompleteSignatureException",
                      "Authorization header requires 'Credential', 'Signature' and "
                      "'SignedHeaders' parameters (AWS4-HMAC-SHA256)", request_id)
    found = function_key(auth.access_key)
    secret = found.secret if found is not None else user_secret(auth.access_key)
    if secret is None:
        return denied(403, "UnrecognizedClientException",
                      "The security token included in the request is invalid.", request_id)
    if auth.service != "lambda":
        return denied(403, "InvalidSignatureException",
                      "Credential should be scoped to correct service: 'lambda'.", request_id)
    stale = _clock_error(request.headers.get("x-amz-date", ""), now or datetime.now(UTC))
    if stale is not None:
        return denied(403, "InvalidSignatureException", stale, request_id)
    if not header_signature_ok(auth, request.method, request.path, request.query,
                               request.headers, request.body, secret):
        return denied(403, "InvalidSignatureException",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult "
                      "the service documentation for details.", request_id)
    return Caller(auth.access_key, found)


def _clock_error(amz_date: str, now: datetime) -> str | None:
    try:
        signed = datetime.strptime(amz_date, _DATE).replace(tzinfo=UTC)
    except ValueError:
        return "Signature has no valid X-Amz-Date"
    if signed < now - SKEW:
        return (f"Signature expired: {amz_date} is now earlier than "
                f"{(now - SKEW).strftime(_DATE)} ({now.strftime(_DATE)} - 5 min.)")
    if signed > now + SKEW:
        return (f"Signature not yet current: {amz_date} is still later than "
                f"{(now + SKEW).strftime(_DATE)} ({now.strftime(_DATE)} + 5 min.)")
    return None


def authorize(caller: Caller, name: str, qualifier: str | None, request_id: str,
              stage_of: Callable[[str], tuple[str, str] | None]) -> Reply | None:
    """403 `AccessDeniedException` when a function calls one its grants do not name (the user
    may invoke any); None when the invocation may go on. `stage_of`: a function's service and
    stage, for the role in the message."""
    fn = caller.function
    if fn is None:
        return None
    resource = function_arn(name) + (f":{qualifier}" if qualifier else "")
    if is_allowed(fn.statements, INVOKE, resource):
        return None
    return Reply(403, json.dumps({"Type": "User", "Message": _denied_message(
        fn.function, resource, stage_of(fn.function))}).encode(), {
        "Content-Type": "application/json", "X-Amzn-ErrorType": "AccessDeniedException",
        "X-Amzn-RequestId": request_id})


def _denied_message(function: str, resource: str, stage: tuple[str, str] | None) -> str:
    role = StageNames(stage[0], stage[1], ACCOUNT).role_name if stage else function
    principal = ACCOUNT.arn("sts", f"assumed-role/{role}/{function}", region=False)
    return (f"User: {principal} is not authorized to perform: {INVOKE} on resource: "
            f"{resource} because no identity-based policy allows the {INVOKE} action (aloft: a "
            "function may invoke its @aloft.task target; grant others in its `permissions`)")

