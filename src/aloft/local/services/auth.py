"""Who may do what on the local AWS endpoint: each function's grants, enforced in front of moto.

Every function version gets its own access key id (`function_access_key`), set as its
`AWS_ACCESS_KEY_ID`. The endpoint process reads the key from each request's SigV4 credential
(the `Authorization` header or a presigned URL's `X-Amz-Credential`) and, for a function's key,
checks S3, SQS, SNS, DynamoDB (and its streams), Kinesis, SSM Parameter Store, Secrets Manager
and KMS calls (actions.py names their IAM action and resource) against the function's
grants: the stage model's (aloft.stage.grants), which the aws role policy states too: the
declared resources, its own event sources, its `secrets`, the declared `parameters` and its
`permissions` statements (IAM semantics: an explicit Deny wins, otherwise an Allow must match
the action and the resource).
A call without a grant gets the AccessDenied error of its protocol, as on AWS. A function key's
calls must be signed with its secret (sigv4.py), so one function cannot use another's key id.
Other callers are not restricted, but must prove who they are, or a function could sign with
a made-up key and skip its grants: the platform (`ADMIN_KEY`, its secret derived from the
home's signing key, which no instance sees) and the user (their own AWS credentials:
user_credentials.py), each signing with its secret. Unsigned calls may only read from S3 (a
browser reading a public bucket).

Pure functions over data, plus `AuthMiddleware`, the WSGI wrapper the endpoint process runs.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from aloft.local.services.account import ACCOUNT
from aloft.local.services.actions import Call, request_call
from aloft.local.services.error_responses import ErrorResponse, denied_message, error_response
from aloft.local.services.sigv4 import function_secret, signed_by
from aloft.stage.records import Function, Grant

__all__ = ["ACCOUNT", "ADMIN_KEY", "AuthMiddleware", "admin_secret", "function_access_key",
           "function_grants", "is_allowed"]


def admin_secret(signing_key: bytes) -> str:
    """The platform's secret key for the endpoint (with `ADMIN_KEY`)."""
    return function_secret(signing_key, ADMIN_KEY)

FUNCTION_KEY_PREFIX = "ALOFTFN"
ADMIN_KEY = "aloft-admin"  # the platform's own access key id (its secret: `admin_secret`)
ADMIN_PATH = "/_aloft/"

Statement = dict[str, Any]  # {"effect": "Allow"|"Deny", "action": [...], "resource": [...]}
Grants = dict[str, list[Statement]]  # access key id -> statements

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def function_access_key(physical: str, version: int) -> str:
    """The access key id of one function version (20 characters, like AWS's)."""
    digest = hashlib.sha256(f"{physical}:{version}".encode()).hexdigest()[:13].upper()
    return FUNCTION_KEY_PREFIX + digest


GRANTS_MARKER = {"sid": "aloft:all-services", "effect": "Allow", "action": [], "resource": []}
"""First statement of grants that cover every enforced service. Grants recorded by an older
aloft lack it: those keep the old checks (SSM, Secrets Manager and KMS only) until a redeploy
records new ones, so that upgrading does not lock a deployed function out of its resources."""
LEGACY_SERVICES = ("ssm", "secretsmanager", "kms")


def statement(grant: Grant) -> Statement:
    """A stage model grant as the endpoint checks it. A condition is not evaluated here: a
    statement with one never matches (the calls it covers, such as SSM's own decryption with
    the stage key, are not a function's requests to the endpoint)."""
    out: Statement = {"effect": grant.effect, "action": list(grant.actions),
                      "resource": list(grant.resources)}
    if grant.conditions:
        out["condition"] = [[c.operator, c.key, list(c.values)] for c in grant.conditions]
    return out


def function_grants(fn: Function) -> list[Statement]:
    """What a function may do on the endpoint: the stage model's grants (aloft.stage.grants),
    the same that the aws provider's role policy states."""
    return [dict(GRANTS_MARKER), *(statement(g) for g in fn.grants)]


def is_allowed(statements: Iterable[Statement], action: str, resource: str) -> bool:
    allowed = False
    for st in statements:
        if st.get("condition"):
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in st["action"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in st["resource"]):
            continue
        if st["effect"] == "Deny":
            return False
        allowed = True
    return allowed


def access_key_of(authorization: str, query: str) -> str | None:
    m = _CREDENTIAL.search(authorization)
    if m:
        return m.group(1)
    if "X-Amz-Credential" in query:
        cred = parse_qs(query).get("X-Amz-Credential", [""])[0]
        return unquote(cred).split("/", 1)[0] or None
    if "AWSAccessKeyId" in query:  # an S3 URL presigned with signature version 2
        return parse_qs(query).get("AWSAccessKeyId", [""])[0] or None
    return None


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
GRANTS_WAIT = 10.0
"""Seconds a function key's call waits for the daemon's grants (pushed as soon as the endpoint
is up: see AwsEndpoint) when the endpoint has none yet. A function that called right after
the local cloud restarted was refused AccessDenied in the moment between the two."""


class AuthMiddleware:
    """WSGI in front of moto: grant checks for function keys, plus the endpoint's own admin
    API (`/_aloft/health`, `PUT /_aloft/grants` with the admin token)."""

    def __init__(self, app: WsgiApp, admin_token: str, on_write: Callable[[], None],
                 signing_key: bytes | None = None,
                 users: Callable[[str], str | None] | None = None,
                 grants_wait: float = 0.0):
        """Without `signing_key`, signatures are not checked and any other key goes through
        (unit tests); `users`: the secret of one of the user's own access keys, or None;
        `grants_wait`: seconds a function key's call waits for the first `set_grants`."""
        self.app = app
        self.signing_key = signing_key
        self.users = users
        self.admin_token = admin_token
        self.on_write = on_write
        self._grants: dict[str, tuple[str, list[Statement]]] = {}
        self._lock = threading.Lock()
        self._grants_wait = grants_wait
        self._granted = threading.Event()  # the daemon's grants have come

    def set_grants(self, grants: dict[str, tuple[str, list[Statement]]]) -> None:
        with self._lock:
            self._grants = dict(grants)
        self._granted.set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(ADMIN_PATH):
            return self._admin(environ, start_response, path[len(ADMIN_PATH):])
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method not in ("GET", "HEAD"):
            self.on_write()
        key = access_key_of(str(environ.get("HTTP_AUTHORIZATION", "")),
                            str(environ.get("QUERY_STRING", "")))
        if key is not None and key.startswith(FUNCTION_KEY_PREFIX):
            error = self._check(environ, key)
        elif self.signing_key is not None:
            error = self._check_caller(environ, key, self.signing_key)
        else:
            error = None
        if error is not None:
            start_response(error.status, error.headers)
            return [error.body]
        return self.app(environ, start_response)

    def _check_caller(self, environ: dict[str, Any], key: str | None, signing: bytes
                      ) -> ErrorResponse | None:
        """The error for a call by the platform or the user that does not prove it is theirs
        (unsigned, an unknown key, a wrong signature); None when it may go through."""
        body: list[bytes] = []

        def read() -> bytes:
            if not body:
                body.append(_read_body(environ))
            return body[0]

        if key is None:
            if _anonymous_read(environ):
                return None
            return _refuse(environ, read, lambda _: "AccessDenied",
                           "the request is not signed (aloft: sign it with your own AWS "
                           "credentials)")
        secret = function_secret(signing, key) if key == ADMIN_KEY else (
            self.users(key) if self.users is not None else None)
        if secret is None:
            return _refuse(environ, read, _unknown_key_code,
                           f"the access key {key} is not known here (aloft: sign with your own "
                           "AWS credentials, `aloft config credentials`, or a function's)")
        payload = b"" if environ.get("HTTP_X_AMZ_CONTENT_SHA256") else read()
        if not signed_by(environ, payload, secret):
            return _refuse(environ, read, lambda call: "InvalidSignature"
                           if call.protocol == "json" else "SignatureDoesNotMatch",
                           f"the request with access key {key} is not signed with its secret")
        return None

    def _check(self, environ: dict[str, Any], key: str) -> ErrorResponse | None:
        """The error for a function key's call that is not signed with its secret or not
        granted; None when it may go through."""
        body: list[bytes] = []

        def read() -> bytes:  # once, and only for the calls that need it
            if not body:
                body.append(_read_body(environ))
            return body[0]

        call = request_call(environ, read)
        if call is None:
            return None
        if self._grants_wait and not self._granted.is_set():  # (a request thread of its own)
            self._granted.wait(self._grants_wait)
        with self._lock:
            found = self._grants.get(key)
        function, statements = found or ("unknown-function", [])  # a key without grants
        if found is not None and call.service not in LEGACY_SERVICES and not any(
                st.get("sid") == GRANTS_MARKER["sid"] for st in statements):
            return None  # grants recorded by an older aloft: see GRANTS_MARKER
        head = environ.get("REQUEST_METHOD") == "HEAD"
        if self.signing_key is not None:
            payload = b"" if environ.get("HTTP_X_AMZ_CONTENT_SHA256") else read()
            if not signed_by(environ, payload, function_secret(self.signing_key, key)):
                return error_response(
                    call, "InvalidSignature" if call.protocol == "json" else
                    "SignatureDoesNotMatch",
                    f"the request with access key {key} is not signed with its secret key "
                    "(aloft: use the credentials the platform gives the function)", head=head)
        for action, resource in call.checks:
            if not is_allowed(statements, action, resource):
                return error_response(call, "AccessDenied",
                                      denied_message(key, function, action, resource),
                                      head=head)
        return None

    def _admin(self, environ: dict[str, Any], start_response: Callable[..., Any],
               route: str) -> Iterable[bytes]:
        if route == "health":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        given = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not hmac.compare_digest(given.encode(), f"Bearer {self.admin_token}".encode()):
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "missing or wrong token"}']
        if route == "grants" and environ.get("REQUEST_METHOD") == "PUT":
            data = json.loads(_read_body(environ) or b"{}")
            self.set_grants({k: (str(v["function"]), list(v["statements"]))
                             for k, v in data.items()})
            start_response("204 No Content", [])
            return []
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"error": "no such endpoint"}']


def _anonymous_read(environ: dict[str, Any]) -> bool:
    """An unsigned GET or HEAD that is no query or JSON API call: S3's (a public bucket's
    object in a browser)."""
    return (environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and not environ.get("HTTP_X_AMZ_TARGET")
            and "Action=" not in str(environ.get("QUERY_STRING", "")))


def _unknown_key_code(call: Call) -> str:
    if call.protocol in ("rest-xml", "query"):
        return "InvalidAccessKeyId" if call.protocol == "rest-xml" else "InvalidClientTokenId"
    return "InvalidClientTokenId" if call.service == "sqs" else "UnrecognizedClient"


def _refuse(environ: dict[str, Any], read: Callable[[], bytes], code: Callable[[Call], str],
            message: str) -> ErrorResponse:
    """`message` as the call's protocol words an error (a plain 403 for a call of a service
    the endpoint does not read)."""
    call = request_call(environ, read)
    if call is None:
        body = json.dumps({"__type": "AccessDenied", "message": message}).encode()
        return ErrorResponse("403 Forbidden", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(body))),
                                               ("x-amzn-query-error", "AccessDenied;Sender")],
                             body)
    return error_response(call, code(call), message,
                          head=environ.get("REQUEST_METHOD") == "HEAD")


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so that moto reads it too."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
