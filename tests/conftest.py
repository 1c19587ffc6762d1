"""Fixtures shared by every test directory (keep this small: most belong next to their tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO_ROOT / "examples"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The AWS sample conformance tests are not collected where there are no samples (the
    header and the summary say so); everything else runs on the project's own fixtures."""
    from tests.aws_events import AWS_EVENTS, CONFORMANCE_TESTS

    if AWS_EVENTS is None and any(collection_path == REPO_ROOT / t for t in CONFORMANCE_TESTS):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str:
    from tests.aws_events import conformance_status

    return conformance_status()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.aws_events import AWS_EVENTS, conformance_status

    if AWS_EVENTS is None:
        terminalreporter.write_line(conformance_status())
