"""Who may read what on the local AWS endpoint: each function's grants, enforced in front of moto.

Every function version gets its own access key id (`function_access_key`), set as its
`AWS_ACCESS_KEY_ID`. The endpoint process reads the key from each request's SigV4 credential
(the `Authorization` header or a presigned URL's `X-Amz-Credential`) and, for a function's key,
checks SSM Parameter Store, Secrets Manager and KMS calls against the function's grants: its
`secrets`, the stage's declared `parameters`, and its `permissions` statements (IAM semantics:
an explicit Deny wins, otherwise an Allow must match the action and the resource). A call
without a grant gets `AccessDeniedException`, as on AWS. Other keys (the CLI's, a user's own
scripts) are not restricted: the endpoint listens on 127.0.0.1 only. A function key's calls must
be signed with its secret (endpoint_sigv4.py), so one function cannot use another's key id.

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

from aloft.config.models import Function, Service
from aloft.local.endpoint_sigv4 import function_secret, signed_by
from aloft.naming import Account, ResourceNames, secret_parameter

ACCOUNT = Account(account_id="123456789012", region="us-east-1")
"""moto's default account; every resource of the local cloud lives in it."""

FUNCTION_KEY_PREFIX = "ALOFTFN"
ADMIN_PATH = "/_aloft/"

Statement = dict[str, Any]  # {"effect": "Allow"|"Deny", "action": [...], "resource": [...]}
Grants = dict[str, list[Statement]]  # access key id -> statements

SECRET_READ = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def function_access_key(physical: str, version: int) -> str:
    """The access key id of one function version (20 characters, like AWS's)."""
    digest = hashlib.sha256(f"{physical}:{version}".encode()).hexdigest()[:13].upper()
    return FUNCTION_KEY_PREFIX + digest


def function_grants(service: Service, name: str, fn: Function,
                    names: ResourceNames) -> list[Statement]:
    """What a function may do on SSM, Secrets Manager and KMS: its `secrets` (parameters by
    key, path or ARN, and Secrets Manager secrets of the same name), the stage's declared
    parameters, the service's and its own `permissions`."""
    out: list[Statement] = []
    params, secrets_manager = [], []
    for secret in fn.secrets:
        if secret.startswith("arn:"):
            params.append(secret)
            continue
        if secret in service.resources.parameters:
            path = names.parameter(secret, service.resources.parameters[secret].name)
        else:
            path = secret_parameter(service.service, service.stage, secret)
        params.append(names.parameter_arn(path))
        secrets_manager.append(names.account.arn("secretsmanager",
                                                 f"secret:{path.lstrip('/')}*"))
    declared = [names.parameter_arn(names.parameter(k, p.name))
                for k, p in service.resources.parameters.items()]
    if params or declared:
        out.append({"effect": "Allow", "action": SECRET_READ, "resource": params + declared})
    if secrets_manager:
        out.append({"effect": "Allow", "action": ["secretsmanager:GetSecretValue",
                                                  "secretsmanager:DescribeSecret"],
                    "resource": secrets_manager})
    statements = list(fn.permissions)
    if name in service.functions:  # the app's permissions already include the service's
        statements = list(service.permissions) + statements
    for st in statements:
        out.append({"effect": st.effect, "action": list(st.action), "resource": list(st.resource)})
    return out


def grant_changes(plan: list[dict[str, Any]], stage: str, desired: dict[str, Any],
                  current: dict[str, Any]) -> list[dict[str, Any]]:
    """`plan` plus a `grants` instruction (and the alias switch that records it, if the plan had
    none) when the functions' grants differ from the current deployment's: a change of
    `secrets` or `permissions` publishes no new version, as a role policy change on AWS."""
    desired = json.loads(json.dumps(desired))
    if desired == current:
        return plan
    changed = sorted({str(v[0]) for k, v in desired.items() if current.get(k) != v})
    out = [*plan, {"action": "grants", "name": stage, "functions": changed}]
    if not any(i["action"] == "switch_alias" for i in plan):
        alias = {i["name"]: i["version"] for i in plan if i["action"] == "keep"}
        out.append({"action": "switch_alias", "name": stage, "functions": alias})
    return out


def is_allowed(statements: Iterable[Statement], action: str, resource: str) -> bool:
    allowed = False
    for st in statements:
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
    return None


_TARGETS = {"AmazonSSM": "ssm", "secretsmanager": "secretsmanager", "TrentService": "kms"}


def protected_call(target: str, body: bytes) -> tuple[str, list[str]] | None:
    """(IAM action, resource ARNs) of an SSM, Secrets Manager or KMS call (JSON protocol,
    `X-Amz-Target: AmazonSSM.GetParameter`); None for every other request."""
    prefix, _, operation = target.partition(".")
    service = _TARGETS.get(prefix)
    if service is None or not operation:
        return None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    action = f"{service}:{operation}"
    if service == "ssm":
        names = data.get("Names") or [data.get("Name") or data.get("Path") or ""]
        resources = [_parameter_arn(str(n)) for n in names if n] or ["*"]
    elif service == "secretsmanager":
        secret = str(data.get("SecretId") or data.get("Name") or "")
        resources = [secret if secret.startswith("arn:") else
                     ACCOUNT.arn("secretsmanager", f"secret:{secret}")] if secret else ["*"]
    else:
        key = str(data.get("KeyId") or "*")
        resources = [key if key.startswith("arn:") else ACCOUNT.arn("kms", f"key/{key}")]
    return action, resources


def _parameter_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    name = name.split(":", 1)[0]  # `name:version` / `name:label` selectors
    return ACCOUNT.arn("ssm", f"parameter{name if name.startswith('/') else '/' + name}")


def access_denied(key: str, function: str, action: str, resource: str) -> bytes:
    return json.dumps({
        "__type": "AccessDeniedException",
        "message": (f"User: arn:aws:sts::{ACCOUNT.account_id}:assumed-role/{function}/{key} is "
                    f"not authorized to perform: {action} on resource: {resource} because no "
                    "identity-based policy allows the action (aloft: grant it with the "
                    "function's `secrets` or `permissions`)"),
    }).encode()


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
            target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
            if target:
                body = _read_body(environ)
                call = protected_call(target, body)
                if call is not None:
                    denied = self._unsigned(environ, body, key) or self._denied(key, *call)
                    if denied is not None:
                        start_response("400 Bad Request", [
                            ("Content-Type", "application/x-amz-json-1.1"),
                            ("Content-Length", str(len(denied)))])
                        return [denied]
        return self.app(environ, start_response)

    def _unsigned(self, environ: dict[str, Any], body: bytes, key: str) -> bytes | None:
        """An error unless the request was signed with the secret of `key`'s function."""
        if self.signing_key is None or signed_by(environ, body,
                                                 function_secret(self.signing_key, key)):
            return None
        return json.dumps({
            "__type": "InvalidSignatureException",
            "message": f"the request with access key {key} is not signed with its secret key "
                       "(aloft: use the credentials the platform gives the function)",
        }).encode()

    def _denied(self, key: str, action: str, resources: list[str]) -> bytes | None:
        with self._lock:
            function, statements = self._grants.get(key, ("unknown-function", []))
        for resource in resources:
            if not is_allowed(statements, action, resource):
                return access_denied(key, function, action, resource)
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
