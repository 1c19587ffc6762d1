"""Who may call the API: authorizers, route authorization, API keys and usage plans (pydantic).

`authorizers:` names the stage's authorizers: JWT (HTTP APIs: issuer, audience, scopes per
route) and Lambda authorizers, a function of the stage (`request`: HTTP and REST APIs; `token`:
REST APIs). An `http` event names one with `authorizer:` (the app's routes with the top-level
`authorizer:`); `private: true` makes a REST route need an API key of `api_keys`, metered by
`usage_plan`. The keys are those the Serverless Framework's users write, in aloft's spelling.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AuthorizerKind = Literal["jwt", "request", "token"]
DEFAULT_IDENTITY = "$request.header.Authorization"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

_SOURCE = re.compile(
    r"^(?:\$request\.|method\.request\.)(header|querystring)\.([A-Za-z0-9_.~!#$%&'*+^`|-]+)$"
    r"|^\$?(context|stageVariables)\.([A-Za-z0-9_.]+)$"
)


def identity_source(text: str) -> tuple[str, str]:
    """(`header`, `querystring`, `context` or `stageVariables`; the name) of an identity
    source as HTTP APIs (`$request.header.Authorization`) or REST APIs
    (`method.request.header.Authorization`) write it. ValueError when it is neither."""
    m = _SOURCE.match(text.strip())
    if m is None:
        raise ValueError(
            f"identity source {text!r} is not one API Gateway reads; write "
            "`$request.header.NAME`, `$request.querystring.NAME`, `$context.NAME` or "
            "`$stageVariables.NAME` (REST APIs' `method.request.header.NAME` also works)")
    kind, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return kind, name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Authorizer(_Model):
    """An authorizer of the stage's API: `jwt`, or a Lambda authorizer (`request`, `token`)."""

    type: AuthorizerKind | None = Field(
        None, description="`jwt` (HTTP APIs), `request` (a function: HTTP and REST APIs) or "
        "`token` (a function: REST APIs); default: jwt with an `issuer`, else request.")
    function: str | None = Field(None, description="The Lambda authorizer: a key of `functions`.")
    issuer: str | None = Field(None, description="JWT: the token issuer (`iss`), an HTTPS URL.")
    audience: list[str] = Field(
        default_factory=list, description="JWT: accepted `aud` (or `client_id`) values.")
    jwks: str | None = Field(
        None, description="JWT, local cloud only: where the gateway reads the issuer's keys: a "
        "JWKS file (relative to the project) or an http://127.0.0.1 URL; default: the issuer's "
        "`/.well-known/openid-configuration` (reachable only when it is on this machine).")
    identity_source: list[str] = Field(
        default_factory=lambda: [DEFAULT_IDENTITY],
        description="Where the identity is: `$request.header.NAME`, `$request.querystring.NAME`, "
        "`$context.NAME`, `$stageVariables.NAME`; a request without one is answered 401.")
    ttl: int = Field(
        300, ge=0, le=3600, description="Seconds an authorizer's answer is cached per identity "
        "(0: no cache; JWT: not cached).")
    simple_responses: bool = Field(
        False, description="HTTP APIs: the function answers `{isAuthorized, context}` instead "
        "of an IAM policy.")
    payload: Literal["1.0", "2.0"] | None = Field(
        None, description="The request authorizer's event format: 2.0 (HTTP APIs' default) or "
        "1.0 (REST APIs always).")
    validation: str | None = Field(
        None, description="token: a regular expression the token must match, else 401.")

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = dict(value)
            for key in ("audience", "identity_source"):
                if isinstance(value.get(key), str):
                    value[key] = [value[key]]
        return value

    @field_validator("jwks")
    @classmethod
    def _loopback(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            host = urlsplit(value).hostname or ""
            if urlsplit(value).scheme not in ("http", "https") or host not in _LOOPBACK:
                raise ValueError(f"jwks {value!r}: the local cloud reads keys from a file or "
                                 "from this machine (http://127.0.0.1:PORT/...), never the "
                                 "network")
        return value

    @field_validator("identity_source")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for text in value:
            identity_source(text)
        return value

    @field_validator("validation")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"validation {value!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _shape(self) -> Authorizer:
        if self.type is None:
            self.type = "jwt" if self.issuer is not None else "request"
        if self.type == "jwt":
            if self.function is not None:
                raise ValueError("a jwt authorizer has an `issuer`, not a `function`; for a "
                                 "Lambda authorizer write `type: request`")
            if not self.issuer or not self.audience:
                raise ValueError("a jwt authorizer needs an `issuer` and an `audience`")
            if self.simple_responses or self.validation:
                raise ValueError("`simple_responses` and `validation` are for Lambda authorizers")
        else:
            if self.function is None:
                raise ValueError(f"a {self.type} authorizer needs a `function` (a key of "
                                 "`functions`) that answers it")
            if self.issuer is not None or self.audience or self.jwks is not None:
                raise ValueError("`issuer`, `audience` and `jwks` are for jwt authorizers")
        if self.type == "token":
            sources = [identity_source(s) for s in self.identity_source]
            if len(sources) != 1 or sources[0][0] != "header":
                raise ValueError("a token authorizer reads one header (`identity_source: "
                                 "$request.header.Authorization`)")
            if self.simple_responses or self.payload == "2.0":
                raise ValueError("a token authorizer (REST APIs) answers with an IAM policy: "
                                 "`simple_responses` and `payload: '2.0'` do not apply")
        elif self.validation is not None:
            raise ValueError("`validation` is for token authorizers")
        if self.simple_responses and self.payload == "1.0":
            raise ValueError("`simple_responses` needs the 2.0 payload")
        return self


class RouteAuthorizer(_Model):
    """`authorizer: name` or `authorizer: {name: users, scopes: [notes:write]}`."""

    name: str = Field(description="A key of `authorizers`.")
    scopes: list[str] = Field(
        default_factory=list, description="JWT: the token must carry one of these scopes.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class ApiKey(_Model):
    """`api_keys: [partner]` or `[{name: partner, value: ...}]`."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,128}$", description="The key's name.")
    value: str | None = Field(
        None, min_length=20, max_length=128,
        description="The key itself (20 to 128 characters); default: API Gateway makes one "
        "(the local cloud derives one, shown on the dashboard).")
    description: str | None = Field(None, description="Free text.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class Quota(_Model):
    limit: int = Field(ge=0, description="Requests per period.")
    period: Literal["DAY", "WEEK", "MONTH"] = Field("DAY", description="DAY, WEEK or MONTH.")
    offset: int = Field(0, ge=0, description="Requests already used in the first period.")

    @field_validator("period", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Throttle(_Model):
    rate_limit: float = Field(gt=0, description="Steady requests per second, per key.")
    burst_limit: int = Field(ge=1, description="Requests a key may send at once.")


class UsagePlan(_Model):
    """How much each API key may call: a quota per period and a request rate."""

    quota: Quota | None = Field(None, description="Requests per day, week or month.")
    throttle: Throttle | None = Field(None, description="Requests per second and burst.")
    description: str | None = Field(None, description="Free text.")
