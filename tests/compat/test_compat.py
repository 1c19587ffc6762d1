"""The compatibility corpus: Serverless Framework and Zappa projects written the way their users
write them (tests/compat/projects), each checked through the real `aloft` command line:

- validate: `aloft validate --all-stages` accepts the project as it is;
- import: `aloft import` writes an aloft.yml that `aloft validate` accepts, giving the same
  service for every stage;
- template: that aloft.yml with `provider: aws` gives an `aloft template` cfn-lint accepts;
- deploy: `aloft deploy` to a local cloud, then one request to the stage (expected.DEPLOYED;
  `python -m tests.compat.report` deploys every project).

A known gap (expected.GAPS) is asserted to fail for its reason, so that fixing it shows here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.control.client import CloudClient
from tests.compat.expected import CALLS, DEPLOYED, GAPS
from tests.compat.harness import check_all, check_deploy, projects

PROJECTS = projects()


def test_the_corpus_is_large_enough() -> None:
    assert len(PROJECTS) >= 30
    assert sum(p.startswith("zappa-") for p in PROJECTS) >= 8


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str | None]:
    """validate, import and template on every project (harness.check_all)."""
    return check_all(PROJECTS, tmp_path_factory.mktemp("compat"))


def _expect(project: str, check: str, failure: str | None) -> None:
    gap = GAPS.get((project, check))
    if gap is None:
        assert failure is None, f"{project} {check}: {failure}"
    else:
        assert failure is not None, f"{project} {check} passes now: remove it from GAPS"
        assert gap in failure, f"{project} {check}: {failure}"


@pytest.mark.parametrize("project", PROJECTS)
def test_validate(project: str, results: dict[tuple[str, str], str | None]) -> None:
    _expect(project, "validate", results[project, "validate"])


@pytest.mark.parametrize("project", PROJECTS)
def test_import_round_trip(project: str, results: dict[tuple[str, str], str | None]) -> None:
    _expect(project, "import", results[project, "import"])


@pytest.mark.parametrize("project", PROJECTS)
def test_aws_template(project: str, results: dict[tuple[str, str], str | None]) -> None:
    _expect(project, "template", results[project, "template"])


@pytest.fixture(scope="module")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the module's deploys: a layer is built once per requirements."""
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    home = tmp_path_factory.mktemp("home")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    client = CloudClient(home, port)
    client.start()
    yield home, port
    if client.running() is not None:
        client.stop()


@pytest.mark.parametrize("project", sorted({*DEPLOYED, *(p for p, c in GAPS if c == "deploy")}))
def test_deploy_and_call(project: str, cloud: tuple[Path, int], build_cache: Path,
                         tmp_path: Path) -> None:
    home, port = cloud
    failure = check_deploy(project, tmp_path, home=home, port=port, call=CALLS.get(project),
                           cache=build_cache)
    _expect(project, "deploy", failure)
