"""The state object a stage keeps in its deployment bucket: what it created and its releases.

AWS itself is the source of truth for what each resource looks like; this record remembers what
cannot be listed by name (resources a later config no longer mentions, the API's id) and the
release history that `rollback` walks back through.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from aloft.aws import specs as s


@dataclass(frozen=True)
class Release:
    number: int
    functions: dict[str, str]  # logical function name -> published version
    code_sha256: str
    time: float
    # The schedule rules the release declared, which `rollback` puts back; None for a release
    # recorded before releases kept them (a rollback to it leaves the rules as they are).
    rules: tuple[s.RuleSpec, ...] | None = None
    # The API's routes (key -> function, payload) the release served, which `rollback` puts
    # back; None for a release recorded before releases kept them (a REST API's were kept
    # later than an HTTP API's): a rollback to it leaves the routes as they are. () = no API.
    routes: tuple[s.RouteSpec, ...] | None = None


@dataclass(frozen=True)
class StateRecord:
    functions: tuple[str, ...] = ()  # logical names
    rules: tuple[str, ...] = ()
    topics_subscribed: tuple[str, ...] = ()  # topic ARNs with subscriptions of ours
    notification_buckets: tuple[str, ...] = ()
    buckets: dict[str, str] = field(default_factory=dict)  # resource key -> physical name
    queues: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    api: tuple[str, str] | None = None  # (kind, id)
    bucket_created: bool = False
    static_bucket: str | None = None  # the bucket of the `static:` files
    roles: tuple[str, ...] = ()  # the IAM roles aloft made (the stage's, or each function's)
    albs: tuple[str, ...] = ()  # the target groups of `alb` events
    # the CloudFront distribution (`cdn: true`): id, arn, domain, oac, hash (aloft.aws.cdn)
    cdn: dict[str, str] | None = None
    releases: tuple[Release, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> StateRecord:
        data: dict[str, Any] = json.loads(text)
        api = data.get("api")
        return cls(
            functions=tuple(data.get("functions", ())),
            rules=tuple(data.get("rules", ())),
            topics_subscribed=tuple(data.get("topics_subscribed", ())),
            notification_buckets=tuple(data.get("notification_buckets", ())),
            buckets=dict(data.get("buckets", {})),
            queues=dict(data.get("queues", {})),
            topics=dict(data.get("topics", {})),
            tables=dict(data.get("tables", {})),
            parameters=dict(data.get("parameters", {})),
            api=(str(api[0]), str(api[1])) if api else None,
            bucket_created=bool(data.get("bucket_created", False)),
            static_bucket=data.get("static_bucket") or None,
            roles=tuple(data.get("roles", ())),
            albs=tuple(data.get("albs", ())),
            cdn=dict(data["cdn"]) if data.get("cdn") else None,
            releases=tuple(Release(int(r["number"]), dict(r["functions"]),
                                   str(r["code_sha256"]), float(r["time"]), _rules(r),
                                   _routes(r))
                           for r in data.get("releases", ())),
        )

    @property
    def current(self) -> Release | None:
        return self.releases[-1] if self.releases else None


def _rules(release: dict[str, Any]) -> tuple[s.RuleSpec, ...] | None:
    rules = release.get("rules")
    return None if rules is None else tuple(s.RuleSpec(**r) for r in rules)


def _routes(release: dict[str, Any]) -> tuple[s.RouteSpec, ...] | None:
    routes = release.get("routes")
    return None if routes is None else tuple(
        s.RouteSpec(**{**r, "scopes": tuple(r.get("scopes", ()))}) for r in routes)
