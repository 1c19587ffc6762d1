"""What a deploy's health check decides, on every provider (the local cloud and aws read it).

A new version serves only once it initialised and its app answered the health path without a
5xx: a failing new version never replaces a serving one. One exception, the way Zappa deploys:
the *first* deploy of a stage publishes an app that initialised but answers its health path
with a 5xx (a Django project whose database is not migrated yet fails every page until
`aloft manage STAGE migrate`, which needs a deployed version to run in). The deploy says so, in
yellow, with the app's answer. A version that cannot initialise, or whose health request errs
or times out without an HTTP answer, is never published: nothing would run in it.

Pure: a provider runs the check its own way and asks `verdict` what the answer means.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ANSWER_SHOWN = 1500
"""Characters of the app's answer a warning or an error quotes."""


class Verdict(Enum):
    HEALTHY = "healthy"  # serves
    PUBLISHED_UNHEALTHY = "published-unhealthy"  # a first deploy's 5xx: serves, with a warning
    FAILED = "failed"  # never serves; what served keeps serving


@dataclass(frozen=True)
class HealthAnswer:
    """What a new version answered its health check's `GET path`: an HTTP status, or None
    when no HTTP answer came (the function raised, crashed or timed out); `text`: the body,
    or the error."""

    function: str  # the logical name (`app`)
    version: int
    path: str
    status: int | None
    text: str = ""


def verdict(answer: HealthAnswer, *, first_deploy: bool) -> Verdict:
    """`first_deploy`: the stage serves nothing yet (no version of any of its functions)."""
    if answer.status is not None and answer.status < 500:
        return Verdict.HEALTHY
    if first_deploy and answer.status is not None:
        return Verdict.PUBLISHED_UNHEALTHY
    return Verdict.FAILED


def _quoted(text: str) -> str:
    text = text.strip()
    if len(text) > ANSWER_SHOWN:
        text = text[:ANSWER_SHOWN] + " …"
    return text or "(an empty body)"


def unhealthy_warning(answer: HealthAnswer, stage: str) -> str:
    """The yellow line of a first deploy published although its app answered a 5xx."""
    return (f"version {answer.version} of {answer.function!r} answered GET {answer.path} with "
            f"{answer.status}: published anyway, as stage {stage}'s first deploy (Zappa's rule: "
            f"e.g. a database not migrated yet; `aloft manage {stage} migrate` runs in it now). "
            f"Later deploys whose health check fails keep the previous version serving. The "
            f"app answered:\n{_quoted(answer.text)}")


def failure_message(answer: HealthAnswer, still: str) -> str:
    """A DeployError's message for a failed health check; `still`: what serves now."""
    got = answer.status if answer.status is not None else "no HTTP answer"
    return (f"version {answer.version} of {answer.function!r} failed its health check (GET "
            f"{answer.path} answered {got}); {still}:\n{_quoted(answer.text)}")


FAILURE_FIX = ("fix the error above, or set `health_path` (or `local.health_path`) to a path "
               "that answers without a 5xx, and deploy again")
