"""The health check on AWS (aloft.health): invoke the version a deploy published, by its
number, with the health check's event, before the stage alias points at it.

`check` runs one `HealthCheck` step: a version that does not initialise, or whose app answers
its health path with a 5xx (but on the stage's first deploy: aloft.health's rule) or with no
HTTP answer, raises `HealthCheckFailed` (the applier then undoes what the run created, and no
alias has moved). `failure_error` words it for the user, with the function's own error
(aloft.init_report, as the local cloud shows it) and its log tail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aloft.aws import steps as st
from aloft.aws.client import AwsClient, Invoked
from aloft.config.models import Service
from aloft.errors import DeployError, Location
from aloft.health import (
    FAILURE_FIX,
    INIT_PING,
    HealthAnswer,
    Verdict,
    health_event,
    http_status,
    payload_text,
    unhealthy_warning,
    verdict,
)
from aloft.init_report import init_report_for
from aloft.provider import HealthPassed

TASK_ROOT = "/var/task"
"""Where Lambda unpacks a function's code: its frames' paths start with it."""
LOG_LINES = 20


class HealthCheckFailed(DeployError):
    """A new version failed its health check (the stage serves what it served)."""

    def __init__(self, step: st.HealthCheck, version: str, what: str, invoked: Invoked) -> None:
        super().__init__(f"version {version} of {step.function!r} failed its health check "
                         f"({what})")
        self.step, self.version, self.what, self.invoked = step, version, what, invoked


@dataclass(frozen=True)
class Checked:
    """A version that may serve: it passed, or (a first deploy's 5xx) it serves with a
    warning."""

    passed: HealthPassed | None
    warning: str | None = None


def event(x: st.HealthCheck) -> bytes:
    """What the check sends: a GET of the health path as the API sends it, or the ping."""
    if x.path is None:
        return json.dumps(INIT_PING).encode()
    return json.dumps(health_event(x.payload, x.path, base_path=x.base_path,
                                   stage=x.api_stage, host="health-check.aloft")).encode()


def check(aws: AwsClient, x: st.HealthCheck, version: str, stage: str) -> Checked:
    """Invoke `version` of the function with the check's event; HealthCheckFailed unless it
    may serve."""
    invoked = aws.invoke(x.physical, version, event(x))
    if x.path is None:
        if invoked.errored:
            raise HealthCheckFailed(x, version, "failed to initialise", invoked)
        return Checked(HealthPassed(x.function, int(version), "initialised"))
    status = None if invoked.errored else http_status(invoked.payload)
    answer = HealthAnswer(x.function, int(version), x.path, status,
                          payload_text(invoked.payload))
    judged = verdict(answer, first_deploy=x.first_deploy)
    if judged is Verdict.FAILED:
        got = status if status is not None else "no HTTP answer"
        raise HealthCheckFailed(x, version, f"GET {x.path} answered {got}", invoked)
    if judged is Verdict.PUBLISHED_UNHEALTHY:
        return Checked(None, unhealthy_warning(answer, stage))
    return Checked(HealthPassed(x.function, int(version), f"GET {x.path} answered {status}"))


def failure_error(service: Service, failed: HealthCheckFailed) -> DeployError:
    """The error a deploy stops with: what failed, what serves, the function's own error at
    the user's files (or the HTTP answer) and its log tail, and the probable fix."""
    x, invoked = failed.step, failed.invoked
    still = (f"version {x.serving} keeps serving" if x.serving
             else "nothing was deployed (the new function was removed)")
    report = init_report_for(service, x.function, invoked.payload, [TASK_ROOT]) \
        if invoked.errored else None
    detail = report.detail() if report else payload_text(invoked.payload)
    tail = _tail(invoked.logs)
    if tail:
        detail += "\nlog tail:\n" + tail
    fix = report.fix if report and report.fix else (
        "fix the error above (`aloft invoke --local` runs the code here) and deploy again"
        if x.path is None or invoked.errored else
        f"{FAILURE_FIX} (`--no-health-check` skips the check)")
    where = Location(file=str(service.config_file) if service.config_file else None,
                     function=x.function, stage=service.stage)
    return DeployError(f"version {failed.version} of {x.function!r} failed its health check "
                       f"({failed.what}); {still}", where=where, detail=detail, fix=fix)


def _tail(logs: str) -> str:
    """The log's last lines, without Lambda's START/END/REPORT lines."""
    lines = [line for line in logs.splitlines()
             if line.strip() and not line.startswith(("START ", "END ", "REPORT "))]
    return "\n".join(lines[-LOG_LINES:])
