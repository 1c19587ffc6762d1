"""Fixtures shared by every test directory (keep this small: most belong next to their tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.services import thread_safe_ast

REPO_ROOT = Path(__file__).resolve().parent.parent
# moto in process answers the AWS provider's parallel calls from several threads: the first
# ones to a service build its URL map at once (see thread_safe_ast)
thread_safe_ast.install()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO_ROOT / "examples"


@pytest.fixture(scope="session", autouse=True)
def _instances_share_the_test_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Functions under test report through files in tmp_path: the local cloud's instances
    (isolated, with their own /tmp) get the run's temporary root bound read-write. The daemon's
    home stays hidden inside it (tests/integration/local/instances/test_isolation.py)."""
    import os

    os.environ.setdefault("ALOFT_SANDBOX_SHARE", str(tmp_path_factory.getbasetemp()))


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


def pytest_configure(config: pytest.Config) -> None:
    """No test may touch the user's own local cloud: a test that forgets its own home and port
    gets a throwaway home and a port nobody listens on, never ~/.local/share/aloft on 8750."""
    import os
    import socket
    import tempfile

    if os.environ.get("PYTEST_XDIST_WORKER"):
        # xdist's workers inherit COLUMNS=80 and LINES=24 from execnet: the CLI would wrap its
        # plain output at 80 columns, where a user's pipe gets whole lines
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)
    if "ALOFT_HOME" not in os.environ:
        os.environ["ALOFT_HOME"] = tempfile.mkdtemp(prefix="aloft-test-home-")
    if "ALOFT_RUNTIME_LAYERS" not in os.environ:
        # Lambda's boto3 and botocore (aloft.package.provided): installed from PyPI once per
        # machine and Python version, shared by every test and every run
        os.environ["ALOFT_RUNTIME_LAYERS"] = str(Path.home() / ".cache" / "aloft-tests" /
                                                 "runtime")
    if "ALOFT_PORT" not in os.environ:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            os.environ["ALOFT_PORT"] = str(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def environment_left_as_it_was() -> Iterator[None]:
    """What a test changes in os.environ is put back after it: a later test in the same process
    (a whole test file under xdist) must not run under it. Two that did: the runtime sets
    DJANGO_SETTINGS_MODULE as Lambda's process would (every later Django project loaded that
    settings module), and importing awscli sets AWS_DATA_PATH (later boto3 sessions skipped the
    config file, so a missing profile no longer failed)."""
    before = dict(os.environ)
    yield
    now = dict(os.environ)
    if "PYTEST_CURRENT_TEST" in before:  # pytest's own, which changes with the test's phase
        now["PYTEST_CURRENT_TEST"] = before["PYTEST_CURRENT_TEST"]
    if now != before:
        for name in now.keys() - before.keys():
            del os.environ[name]
        os.environ.update({k: v for k, v in before.items() if now.get(k) != v})


_SIGNALS = ("SIGINT", "SIGTERM", "SIGCHLD", "SIGHUP", "SIGPIPE")


@pytest.fixture(autouse=True)
def signals_left_as_they_were(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that leaves a signal ignored (or handled) in this process passes that on to every
    command a later test starts (an ignored SIGINT survives exec: the CLI would not stop on
    Ctrl-C in the pty tests): put them back, and say which test changed them."""
    import signal

    before = {name: signal.getsignal(getattr(signal, name)) for name in _SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    changed = [name for name in _SIGNALS if signal.getsignal(getattr(signal, name)) != before[name]]
    for name in changed:
        signal.signal(getattr(signal, name), before[name])
    now = signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if now != mask:
        changed.append(f"blocked {sorted(s.name for s in now - mask)}")
    if changed:
        with open(os.environ.get("ALOFT_TEST_SIGNAL_LOG", os.devnull), "a") as log:
            log.write(f"{request.node.nodeid}: {', '.join(changed)}\n")
