"""CloudWatch Logs on the local AWS endpoint, served from the local cloud's log store.

The endpoint process answers these operations itself (moto never sees them) from logs.db, which
the daemon writes (SQLite in WAL mode: readers in another process see each commit):

- `DescribeLogGroups`: one group per function that logged or is deployed, `/aws/lambda/NAME`
  (or the group its configuration names);
- `DescribeLogStreams`: one stream per instance (and per snapshot template), named as Lambda
  names them (`2024/05/01/[3]<32 hex>`): what the instance was told as
  `AWS_LAMBDA_LOG_STREAM_NAME` and `context.log_stream_name`, which the store keeps with each
  entry. The platform's lines about no instance (a refused request, a template that failed
  to start) and entries older than that go to the version's stream, the name it was told at
  deploy;
- `GetLogEvents`, `FilterLogEvents` (filter patterns: log_filters.py), with their tokens, so
  that `aws logs tail --follow` (which polls FilterLogEvents) works;
- `PutRetentionPolicy`, `DeleteRetentionPolicy`: the group's retention, which the daemon's
  pruning applies (LogStore.trim).

Other Logs operations go to moto (its own groups, not the functions').
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aloft.local.services.account import ACCOUNT
from aloft.local.services.log_filters import FilterPatternError, compile_pattern
from aloft.local.store.logs import LogRecord, LogStore
from aloft.local.store.state import State

TARGET = "Logs_20140328."
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
SCAN = 20_000  # lines one FilterLogEvents call reads at most before answering with a token


class LogsError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Group:
    name: str
    function: str
    created: float
    versions: dict[int, str]  # version -> the version's stream (what it was told at deploy)

    @property
    def arn(self) -> str:
        return ACCOUNT.arn("logs", f"log-group:{self.name}")


def stream_name(function: str, version: int, created: float, told: str | None) -> str:
    """The stream of a version's lines: the name the version was given, or one like it."""
    if told:
        return told
    day = time.strftime("%Y/%m/%d", time.gmtime(created))
    return f"{day}/[{version}]" + hashlib.sha256(f"{function}:{version}".encode()).hexdigest()[:32]


def _ms(ts: float) -> int:
    return int(ts * 1000)


class LogsApi:
    """The Logs operations above, over the home's logs.db and state.db."""

    def __init__(self, logs_db: Path, state_db: Path):
        self.logs_db = logs_db
        self.state_db = state_db
        self._local = threading.local()  # the stores' connections are per thread anyway

    def _stores(self) -> tuple[LogStore, State]:
        stores: tuple[LogStore, State] | None = getattr(self._local, "stores", None)
        if stores is None:
            stores = (LogStore(self.logs_db), State(self.state_db))
            self._local.stores = stores
        return stores

    # -- groups and streams ------------------------------------------------------------------

    def groups(self) -> dict[str, Group]:
        logs, state = self._stores()
        logged = logs.functions()
        latest = state.functions()
        out: dict[str, Group] = {}
        for function in sorted(set(logged) | set(latest)):
            versions: dict[int, str] = {}
            name = f"/aws/lambda/{function}"
            created = logged.get(function, (0.0, 0))[0]
            for version in state.versions(function):
                rec = state.version(function, version)
                if rec is None:
                    continue
                env = rec.fv.environment
                created = min(created or rec.created, rec.created)
                versions[version] = stream_name(function, version, rec.created,
                                                env.get("AWS_LAMBDA_LOG_STREAM_NAME"))
                name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", name)
            out[name] = Group(name, function, created, versions)
        return out

    def group(self, params: dict[str, Any]) -> Group:
        name = params.get("logGroupName") or params.get("logGroupIdentifier") or ""
        if name.startswith("arn:"):  # an identifier may be the group's ARN
            name = name.split(":log-group:", 1)[-1].removesuffix(":*")
        found = self.groups().get(name)
        if found is None:
            raise LogsError("ResourceNotFoundException", "The specified log group does not "
                            f"exist. (aloft: {name!r} is no function's group on the local "
                            "cloud; `aws logs describe-log-groups` lists them)")
        return found

    def _stream_of(self, group: Group, version: int, stream: str | None = None) -> str:
        """The stream of an entry: its instance's, else its version's."""
        return stream or group.versions.get(version) or stream_name(group.function, version,
                                                                    0.0, None)

    # -- operations ---------------------------------------------------------------------------

    def describe_log_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        logs, _ = self._stores()
        retention = logs.retentions()
        prefix = params.get("logGroupNamePrefix") or ""
        pattern = params.get("logGroupNamePattern") or ""
        groups = [g for g in self.groups().values()
                  if g.name.startswith(prefix) and pattern.lower() in g.name.lower()]
        page, token = _page(groups, params, 50)
        out: list[dict[str, Any]] = []
        for g in page:
            item: dict[str, Any] = {
                "logGroupName": g.name, "creationTime": _ms(g.created), "metricFilterCount": 0,
                "arn": g.arn + ":*", "logGroupArn": g.arn, "storedBytes": 0,
                "logGroupClass": "STANDARD"}
            if g.function in retention:
                item["retentionInDays"] = retention[g.function]
            out.append(item)
        return {"logGroups": out, **({"nextToken": token} if token else {})}

    def describe_log_streams(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(params)
        logs, _ = self._stores()
        prefix = params.get("logStreamNamePrefix") or ""
        if prefix and params.get("orderBy") == "LastEventTime":
            raise LogsError("InvalidParameterException", "Cannot order by LastEventTime with "
                            "a logStreamNamePrefix.")
        spans: dict[str, tuple[float, float]] = {}
        for version, stream, first, last, _count in logs.streams(group.function):
            name = self._stream_of(group, version, stream)
            if name.startswith(prefix):
                seen = spans.get(name, (first, last))
                spans[name] = (min(seen[0], first), max(seen[1], last))
        streams: list[dict[str, Any]] = [{
            "logStreamName": name, "creationTime": _ms(first),
            "firstEventTimestamp": _ms(first), "lastEventTimestamp": _ms(last),
            "lastIngestionTime": _ms(last), "storedBytes": 0,
            "arn": f"{group.arn}:log-stream:{name}"} for name, (first, last) in spans.items()]
        if params.get("orderBy") == "LastEventTime":
            streams.sort(key=lambda s: s["lastEventTimestamp"])
        else:
            streams.sort(key=lambda s: s["logStreamName"])
        if params.get("descending"):
            streams.reverse()
        page, token = _page(streams, params, 50)
        return {"logStreams": page, **({"nextToken": token} if token else {})}

    def get_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(params)
        stream = str(params.get("logStreamName") or "")
        if not stream:
            raise LogsError("InvalidParameterException", "1 validation error detected: Value "
                            "null at 'logStreamName' failed to satisfy constraint: Member must "
                            "not be null")
        streams = Streams(frozenset([stream]), None)
        limit = min(int(params.get("limit") or 10000), 10000)
        token = str(params.get("nextToken") or "")
        start, end = params.get("startTime"), params.get("endTime")
        if token.startswith("b/"):  # nothing before what was shown first: the same token
            return {"events": [], "nextForwardToken": "f/" + token[2:],
                    "nextBackwardToken": token}
        after = int(token[2:]) if token.startswith("f/") and token[2:].isdigit() else 0
        head = bool(params.get("startFromHead")) or after > 0 or start is not None
        records, more = self._read(group, streams, start, end, after, limit, head, None)
        events = [{"timestamp": _ms(r.timestamp), "message": r.text,
                   "ingestionTime": _ms(r.timestamp)} for r in records]
        # past the lines read, found or not: a page of none still moves the reader on
        last = more or (records[-1].id if records else after)
        first = records[0].id if records else after
        return {"events": events, "nextForwardToken": f"f/{last}",
                "nextBackwardToken": f"b/{first}"}

    def filter_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(params)
        try:
            match = compile_pattern(params.get("filterPattern"))
        except FilterPatternError as exc:
            raise LogsError("InvalidParameterException", str(exc)) from None
        names = frozenset(params.get("logStreamNames") or ())
        prefix = params.get("logStreamNamePrefix") or None
        if names and prefix:
            raise LogsError("InvalidParameterException", "logStreamNames and "
                            "logStreamNamePrefix are mutually exclusive")
        streams = Streams(names, prefix) if names or prefix else None
        limit = min(int(params.get("limit") or 10000), 10000)
        token = str(params.get("nextToken") or "")
        after = int(token) if token.isdigit() else 0
        records, more = self._read(group, streams, params.get("startTime"),
                                   params.get("endTime"), after, limit, True, match)
        events = [{"logStreamName": self._stream_of(group, r.version, r.stream),
                   "timestamp": _ms(r.timestamp), "message": r.text,
                   "ingestionTime": _ms(r.timestamp), "eventId": str(r.id)}
                  for r in records]
        # searchedLogStreams: AWS has answered an empty list since 2020
        out: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        if more:
            out["nextToken"] = str(more)
        return out

    def _read(self, group: Group, streams: Streams | None, start: Any, end: Any,
              after: int, limit: int, oldest_first: bool,
              match: Callable[[str], bool] | None) -> tuple[list[LogRecord], int]:
        """Up to `limit` lines of the group (of `streams`), between the times (ms), after the
        line id `after`; and the id to go on from when there may be more (0: none)."""
        logs, _ = self._stores()
        since = float(start) / 1000 if start is not None else None
        until = float(end) / 1000 if end is not None else None
        found: list[LogRecord] = []
        scanned = 0
        cursor = after

        def wanted(r: LogRecord) -> bool:
            return ((streams is None or streams.holds(self._stream_of(group, r.version,
                                                                      r.stream)))
                    and (until is None or r.timestamp <= until)
                    and (match is None or match(r.text)))

        one = self._instance_stream(group, streams)
        if not oldest_first:  # the most recent lines, read back from the newest
            before = None
            while scanned < SCAN:
                chunk = logs.query([group.function], since=since, before_id=before,
                                   stream=one, limit=5000)
                if not chunk:
                    break
                scanned += len(chunk)
                before = min(r.id for r in chunk)
                found[:0] = [r for r in chunk if wanted(r)]
                if len(found) >= limit:
                    break
            return found[-limit:], 0
        while True:
            chunk = logs.query([group.function], since=since, after_id=cursor, stream=one,
                               limit=min(SCAN, 5000), oldest_first=True)
            if not chunk:
                return found, 0
            for r in chunk:
                cursor = max(cursor, r.id)
                scanned += 1
                if wanted(r):
                    found.append(r)
                    if len(found) >= limit:
                        return found, r.id
            if scanned >= SCAN:
                return found, cursor

    def _instance_stream(self, group: Group, streams: Streams | None) -> str | None:
        """The one instance's stream a read asks for, if it does: the store then reads only
        the batches holding its name. A version's stream is not one (its entries have no
        name: they are read in bounded scans and picked here)."""
        if streams is None or streams.prefix is not None or len(streams.names) != 1:
            return None
        name = next(iter(streams.names))
        version = name.partition("[")[2].partition("]")[0]
        if name in group.versions.values() or (version.isdigit() and name == stream_name(
                group.function, int(version), 0.0, None)):
            return None
        return name

    def put_retention_policy(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(params)
        days = params.get("retentionInDays")
        if days not in RETENTION_DAYS:
            raise LogsError("InvalidParameterException", f"1 validation error detected: Value "
                            f"'{days}' at 'retentionInDays' failed to satisfy constraint: "
                            f"Member must satisfy enum value set: {list(RETENTION_DAYS)}")
        self._stores()[0].set_retention(group.function, int(days))
        return {}

    def delete_retention_policy(self, params: dict[str, Any]) -> dict[str, Any]:
        self._stores()[0].set_retention(self.group(params).function, None)
        return {}

    # -- WSGI ----------------------------------------------------------------------------

    prefix = TARGET
    OPERATIONS = ("DescribeLogGroups", "DescribeLogStreams", "GetLogEvents", "FilterLogEvents",
                  "PutRetentionPolicy", "DeleteRetentionPolicy")

    def answer(self, operation: str, body: bytes) -> tuple[str, bytes] | None:
        """(HTTP status line, JSON body) of one operation, errors in the JSON protocol's shape;
        None for an operation moto answers."""
        if operation not in self.OPERATIONS:
            return None
        method = getattr(self, _snake(operation))
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise LogsError("InvalidParameterException", "the body must be a JSON object")
            return "200 OK", json.dumps(method(params)).encode()
        except LogsError as exc:
            kind, message = exc.kind, exc.message
        except (ValueError, TypeError) as exc:
            kind, message = "InvalidParameterException", f"{type(exc).__name__}: {exc}"
        return "400 Bad Request", json.dumps({"__type": kind, "message": message}).encode()


@dataclass(frozen=True)
class Streams:
    """The streams a read asks for: by name, or by a prefix of their names."""

    names: frozenset[str]
    prefix: str | None

    def holds(self, name: str) -> bool:
        return name in self.names or (self.prefix is not None and name.startswith(self.prefix))


def _page(items: list[Any], params: dict[str, Any], default: int) -> tuple[list[Any], str | None]:
    token = str(params.get("nextToken") or "")
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        raise LogsError("InvalidParameterException",
                        "The specified nextToken is invalid.") from None
    size = int(params.get("limit") or default)
    more = start + size < len(items)
    return items[start:start + size], (
        base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
