"""EventBridge on the local AWS endpoint: the stage's rules, and PutEvents delivered to them.

- `PutEvents` is handed to the daemon (control API `POST events`, with its token), which
  matches the entries against the current deployments' rules and queues each delivery as an
  async invocation (eventbridge.py);
- `ListRules` and `DescribeRule` show the stages' schedules (`ScheduleExpression`) and
  `eventbridge` rules (`EventPattern`), read from state.db; a rule the local cloud does not
  know is moto's (DescribeRule goes on to moto).
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from aloft.local.services.eventbridge import DEFAULT_BUS, REGION, bus_name, rules_from_extras
from aloft.local.store.state import State
from aloft.local.types import ACCOUNT_ID

TARGET = "AWSEvents."
ENV_CONTROL = "ALOFT_CONTROL_URL"
ENV_CONTROL_TOKEN = "ALOFT_CONTROL_TOKEN"


def _error(kind: str, message: str, status: str = "400 Bad Request") -> tuple[str, bytes]:
    return status, json.dumps({"__type": kind, "message": message}).encode()


class EventsApi:
    prefix = TARGET

    def __init__(self, state_db: Path, control: tuple[str, str] | None):
        self.state_db = state_db
        self.control = control  # (the daemon's URL, its token)
        self._local = threading.local()

    def _state(self) -> State:
        state: State | None = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = State(self.state_db)
        return state

    def answer(self, operation: str, body: bytes) -> tuple[str, bytes] | None:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error("ValidationException", "the body is not JSON")
        if operation == "PutEvents":
            return self._put_events(body)
        if operation == "ListRules":
            return self._list_rules(params)
        if operation == "DescribeRule":
            return self._describe_rule(params)
        return None

    def rules(self) -> list[dict[str, Any]]:
        """Every stage's schedules and EventBridge rules, as DescribeRule answers them."""
        state = self._state()
        out = []
        for r in state.schedules():
            out.append({"Name": r.name, "Arn": _arn(r.name, DEFAULT_BUS),
                        "ScheduleExpression": r.expression,
                        "State": "ENABLED" if r.enabled else "DISABLED",
                        "Description": f"aloft {r.kind} of {r.function}",
                        "EventBusName": DEFAULT_BUS})
        extras = []
        for service, stage in state.stages():
            dep = state.current_deployment(service, stage)
            if dep is not None:
                extras.append(dep.extra)
        for rule in rules_from_extras(extras):
            out.append({"Name": rule.name, "Arn": rule.arn, "EventPattern": rule.pattern,
                        "State": "ENABLED" if rule.enabled else "DISABLED",
                        "Description": rule.description, "EventBusName": rule.bus_name})
        return sorted(out, key=lambda r: str(r["Name"]))

    def _list_rules(self, params: dict[str, Any]) -> tuple[str, bytes]:
        bus = bus_name(params.get("EventBusName"))
        prefix = params.get("NamePrefix") or ""
        rules = [r for r in self.rules()
                 if r["EventBusName"] == bus and str(r["Name"]).startswith(prefix)]
        token = str(params.get("NextToken") or "")
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            return _error("ValidationException", "The NextToken is invalid.")
        size = int(params.get("Limit") or 100)
        out: dict[str, Any] = {"Rules": rules[start:start + size]}
        if start + size < len(rules):
            out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return "200 OK", json.dumps(out).encode()

    def _describe_rule(self, params: dict[str, Any]) -> tuple[str, bytes] | None:
        bus = bus_name(params.get("EventBusName"))
        for rule in self.rules():
            if rule["Name"] == params.get("Name") and rule["EventBusName"] == bus:
                return "200 OK", json.dumps({**rule, "CreatedBy": ACCOUNT_ID}).encode()
        return None  # moto's own rules

    def _put_events(self, body: bytes) -> tuple[str, bytes]:
        if self.control is None:
            return _error("InternalException", "the local cloud's daemon is not known to the "
                          "endpoint", "500 Internal Server Error")
        url, token = self.control
        request = urllib.request.Request(
            f"{url}/_aloft/api/events", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return "200 OK", resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            return _error("InternalException", f"the local cloud refused the events: {detail}",
                          "500 Internal Server Error")
        except OSError as exc:
            return _error("InternalException", f"the local cloud's daemon did not answer: {exc}",
                          "500 Internal Server Error")


def _arn(name: str, bus: str) -> str:
    where = "" if bus == DEFAULT_BUS else f"{bus}/"
    return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{where}{name}"
