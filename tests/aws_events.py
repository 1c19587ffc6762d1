"""Where real AWS event samples live, if anywhere: the directory `ALOFT_AWS_EVENTS` names, or
`shared/aws-events` beside the repository (or beside a folder above it, as for a git worktree
in a subfolder on the developers' machines).

The project does not need them: every test runs on aloft's own fixtures
(tests/fixtures/events/). Where samples exist, the conformance tests
(`CONFORMANCE_TESTS`) also run every one of them; where they don't, those tests are not
collected and the run's header and summary say so."""

from __future__ import annotations

import os
from pathlib import Path

CONFORMANCE_TESTS = ("tests/unit/runtime/test_aws_samples_conformance.py",)


def _samples_dir() -> Path:
    named = os.environ.get("ALOFT_AWS_EVENTS")
    if named:
        return Path(named)
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        candidate = folder / "shared" / "aws-events"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "aws-events"


AWS_EVENTS_DIR = _samples_dir()
AWS_EVENTS: Path | None = AWS_EVENTS_DIR if any(AWS_EVENTS_DIR.glob("*.json")) else None


def conformance_status() -> str:
    """One line for the test run's header and summary."""
    if AWS_EVENTS is None:
        return (
            f"AWS event sample conformance: NOT RUN (no samples at {AWS_EVENTS_DIR}; "
            "set ALOFT_AWS_EVENTS to a directory of real event JSON files to run it)"
        )
    count = len(list(AWS_EVENTS.glob("*.json")))
    return f"AWS event sample conformance: {count} samples from {AWS_EVENTS}"
