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
A call without a grant gets the AccessDenied error of its protocol, as on AWS. Other keys (the
platform's, the CLI's, a user's own scripts) are not restricted: the endpoint listens on
127.0.0.1 only. A function key's calls must be signed with its secret (sigv4.py), so
one function cannot use another's key id.

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
from aloft.local.services.actions import request_call
from aloft.local.services.error_responses import ErrorResponse, denied_message, error_response
from aloft.local.services.sigv4 import function_secret, signed_by
from aloft.stage.records import Function, Grant

__all__ = ["ACCOUNT", "AuthMiddleware", "function_access_key", "function_grants", "is_allowed"]

FUNCTION_KEY_PREFIX = "ALOFTFN"
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


class AuthMiddleware:
    """WSGI in front of moto: grant checks for function keys, plus the endpoint's own admin
    API (`/_aloft/health`, `PUT /_aloft/grants` with the admin token)."""

    def __init__(self, app: WsgiApp, admin_token: str, on_write: Callable[[], None],
                 signing_key: bytes | None = None):
        self.app = app
        self.signing_key = signing_key
        self.admin_token = admin_token
        self.on_write = on_write
        self._grants: dict[str, tuple[str, list[Statement]]] = {}
        self._lock = threading.Lock()

    def set_grants(self, grants: dict[str, tuple[str, list[Statement]]]) -> None:
        with self._lock:
            self._grants = dict(grants)

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
            if error is not None:
                start_response(error.status, error.headers)
                return [error.body]
        return self.app(environ, start_response)

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


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so that moto reads it too."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
