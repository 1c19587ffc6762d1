"""pip's real failure output (captured from failing installs) becomes an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package import Target, build
from aloft.package.target import host_platform, host_python_version
from tests.unit.package.package_fakes import FakePip, make_service

OUTPUT = Path(__file__).parent / "pip_output"
AWS = Target("aws", "3.11", "manylinux2014_x86_64")


def failed_build(project: Path, requirements: str, output: str, target: Target = AWS
                 ) -> PackageError:
    (project / "requirements.txt").write_text(requirements)
    with pytest.raises(PackageError) as err:
        build(make_service(project), target=target, cache_dir=project / ".c",
              pip=FakePip(fail_with=output))
    return err.value


def test_no_wheel_names_the_package_line_and_fix(project: Path) -> None:
    err = failed_build(project, "flask\npsycopg2==2.9.9\n",
                       (OUTPUT / "no_wheel_pinned.txt").read_text())
    assert err.message == (
        "psycopg2==2.9.9 has no wheel for aws (CPython 3.11, manylinux2014_x86_64)"
    )
    assert err.where is not None
    assert (err.where.file, err.where.line) == (str(project / "requirements.txt"), 2)
    assert err.fix is not None
    assert "pin a version that has wheels" in err.fix and "psycopg2-binary" in err.fix


def test_no_wheel_for_the_pinned_version_lists_those_with_wheels(project: Path) -> None:
    err = failed_build(project, "pyyaml==5.3.1\n",
                       (OUTPUT / "no_wheel_other_versions.txt").read_text())
    assert err.message.startswith("pyyaml==5.3.1 has no wheel")
    assert err.fix is not None and "6.0.1, 6.0.2, 6.0.3" in err.fix


def test_a_package_the_index_does_not_have_is_not_blamed_on_wheels(project: Path) -> None:
    """For this machine pip may build from source: no version at all means the index has no
    such package (a misspelt name), not that it publishes no wheel."""
    local = Target("local", host_python_version(), host_platform())
    output = (OUTPUT / "no_such_package.txt").read_text()
    err = failed_build(project, "flask\nthis-package-does-not-exist-xyz==1.0\n", output,
                       target=local)
    assert err.message.startswith("no release of this-package-does-not-exist-xyz==1.0 can be "
                                  "installed for local")
    assert err.where is not None and err.where.line == 2
    assert err.fix is not None
    assert "has no release of this-package-does-not-exist-xyz" in err.fix
    assert "check its name in requirements.txt" in err.fix
    assert "wheel" not in err.fix and "source code" not in err.fix
    # for Lambda, either may be the cause: the fix says both
    err = failed_build(project, "this-package-does-not-exist-xyz==1.0\n", output)
    assert err.fix is not None and "check its spelling" in err.fix and "wheel" in err.fix


def test_an_unreachable_index_is_named_as_the_possible_cause(project: Path) -> None:
    local = Target("local", host_python_version(), host_platform())
    output = ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, "
              "status=None)) after connection broken by 'NewConnectionError(\"Failed to "
              "establish a new connection: [Errno -3] Temporary failure in name resolution\")': "
              "/simple/flask/\n" + (OUTPUT / "no_such_package.txt").read_text())
    err = failed_build(project, "this-package-does-not-exist-xyz==1.0\n", output, target=local)
    assert err.fix is not None and "could not reach the package index" in err.fix
    assert "name resolution" in err.fix


def test_transitive_no_wheel_points_at_the_declared_dependency(project: Path) -> None:
    err = failed_build(project, "flask\ndjango-heroku\n",
                       (OUTPUT / "no_wheel_transitive.txt").read_text())
    assert "psycopg2 (required by django-heroku)" in err.message
    assert err.where is not None and err.where.line == 2


def test_failed_source_build_names_the_package(project: Path) -> None:
    local = Target("local", "3.11", "linux_x86_64")
    err = failed_build(project, "mysqlclient==2.2.4\n",
                       (OUTPUT / "build_failed_local.txt").read_text(), target=local)
    assert err.message.startswith("building mysqlclient from source failed")
    assert err.where is not None and err.where.line == 1
    assert err.fix is not None and "pkg-config" in err.fix  # pip's own explanation is kept


def test_other_failures_keep_pips_output(project: Path) -> None:
    err = failed_build(project, "flask\n", "ERROR: HTTP error 503 while getting flask\n")
    assert "failed" in err.message and err.fix is not None and "503" in err.fix


def test_an_environment_without_pip_says_how_to_get_it(project: Path) -> None:
    output = "/work/venv/bin/python: No module named pip\n"
    err = failed_build(project, "flask\n", output)
    assert "no pip" in err.message and err.fix is not None and "ensurepip" in err.fix
