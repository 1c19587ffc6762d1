from __future__ import annotations

from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package.requirements import find_requirements
from tests.unit.package.package_fakes import make_service

PYPROJECT = """
[project]
name = "demo"
version = "0.1.0"
dependencies = ["flask>=3", "requests"]

[dependency-groups]
dev = ["pytest"]
"""

UV_LOCK = """
version = 1
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "flask" },
    { name = "uvicorn", extra = ["standard"] },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "flask"
version = "3.0.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "click" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
]

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "colorama", marker = "platform_system == 'Windows'" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uvicorn"
version = "0.30.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "h11" }]

[package.optional-dependencies]
standard = [{ name = "httptools" }]

[[package]]
name = "h11"
version = "0.14.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "httptools"
version = "0.6.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "iniconfig" }]

[[package]]
name = "iniconfig"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
"""

POETRY_PYPROJECT = """
[tool.poetry]
name = "demo"

[tool.poetry.dependencies]
python = "^3.11"
flask = "^3.0"

[tool.poetry.group.dev.dependencies]
pytest = "^8"
"""

POETRY_LOCK_1_8 = """
[[package]]
name = "flask"
version = "3.0.3"
optional = false
python-versions = ">=3.8"

[package.dependencies]
click = ">=8.1.3"
python-dotenv = {version = "*", optional = true}

[[package]]
name = "click"
version = "8.1.7"
optional = false
python-versions = ">=3.7"

[[package]]
name = "python-dotenv"
version = "1.0.1"
optional = true
python-versions = ">=3.8"

[[package]]
name = "pytest"
version = "8.2.0"
optional = false
python-versions = ">=3.8"

[package.dependencies]
iniconfig = "*"

[[package]]
name = "iniconfig"
version = "2.0.0"
optional = false
python-versions = ">=3.7"

[metadata]
lock-version = "2.0"
"""

POETRY_LOCK_2 = """
[[package]]
name = "flask"
version = "3.0.3"
groups = ["main"]

[[package]]
name = "colorama"
version = "0.4.6"
groups = ["main", "dev"]
markers = "sys_platform == \\"win32\\""

[[package]]
name = "pytest"
version = "8.2.0"
groups = ["dev"]
"""


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def found(root: Path, **extra: object) -> tuple[str, list[str]] | None:
    reqs = find_requirements(make_service(root, **extra))
    return None if reqs is None else (reqs.kind, list(reqs.lines))


def test_detection_order(project: Path) -> None:
    assert found(project) is None
    write(project, "poetry.lock", POETRY_LOCK_2)
    assert found(project) == ("poetry.lock", ["colorama==0.4.6 ; sys_platform == \"win32\"",
                                              "flask==3.0.3"])
    write(project, "uv.lock", UV_LOCK)
    assert found(project)[0] == "uv.lock"  # type: ignore[index]
    write(project, "pyproject.toml", PYPROJECT)
    assert found(project) == ("pyproject", ["flask>=3", "requests"])
    write(project, "requirements.txt", "django==5.0\n")
    assert found(project) == ("requirements", ["django==5.0"])
    write(project, "deps/prod.txt", "fastapi\n")
    assert found(project, requirements="deps/prod.txt") == ("requirements", ["fastapi"])


def test_a_pyproject_without_dependencies_is_skipped(project: Path) -> None:
    write(project, "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    write(project, "uv.lock", UV_LOCK)
    assert found(project)[0] == "uv.lock"  # type: ignore[index]


def test_requirements_file_is_flattened(project: Path) -> None:
    write(project, "requirements.txt", (
        "# production\n"
        "-r base.txt\n"
        "flask==3.0.0  # web\n"
        "requests \\\n    >=2.31\n"
        "-e ./libs/shared\n"
        "./wheels/tool-1.0-py3-none-any.whl\n"
        "--find-links ./wheels\n"
        "-c constraints.txt\n"
        "\n"
    ))
    write(project, "base.txt", "click>=8\n")
    write(project, "constraints.txt", "click<9\n")
    reqs = find_requirements(make_service(project))
    assert reqs is not None
    root = project.resolve()
    assert list(reqs.lines) == [
        "click>=8",
        "flask==3.0.0",
        "requests >=2.31",
        str(root / "libs" / "shared"),
        str(root / "wheels" / "tool-1.0-py3-none-any.whl"),
        f"--find-links {root / 'wheels'}",
        f"-c {root / 'constraints.txt'}",
    ]
    assert reqs.key_material == ("click<9",)
    assert reqs.line_of("Flask") == 3


def test_an_include_loop_is_reported(project: Path) -> None:
    write(project, "requirements.txt", "-r other.txt\n")
    write(project, "other.txt", "-r requirements.txt\n")
    with pytest.raises(PackageError, match="loop"):
        find_requirements(make_service(project))


def test_a_missing_requirements_file_names_the_key(project: Path) -> None:
    with pytest.raises(PackageError) as err:
        find_requirements(make_service(project, requirements="nope.txt"))
    assert err.value.where is not None and err.value.where.key_path == "requirements"


def test_uv_lock_exports_runtime_dependencies_only(project: Path) -> None:
    write(project, "uv.lock", UV_LOCK)
    assert found(project) == ("uv.lock", [
        "click==8.1.7",
        "colorama==0.4.6 ; (sys_platform == 'win32') or (platform_system == 'Windows')",
        "flask==3.0.3",
        "h11==0.14.0",
        "httptools==0.6.1",
        "uvicorn==0.30.0",
    ])


def test_poetry_lock_without_groups_walks_from_the_main_dependencies(project: Path) -> None:
    write(project, "pyproject.toml", POETRY_PYPROJECT)
    write(project, "poetry.lock", POETRY_LOCK_1_8)
    assert found(project) == ("poetry.lock", ["click==8.1.7", "flask==3.0.3"])


def test_poetry_1_0_lock_uses_categories(project: Path) -> None:
    write(project, "poetry.lock", """
[[package]]
name = "flask"
version = "2.0.0"
category = "main"

[[package]]
name = "pytest"
version = "7.0.0"
category = "dev"
""")
    assert found(project) == ("poetry.lock", ["flask==2.0.0"])


def test_broken_lock_file_says_where(project: Path) -> None:
    write(project, "uv.lock", "[[package]\nname=")
    with pytest.raises(PackageError) as err:
        find_requirements(make_service(project))
    assert err.value.where is not None and err.value.where.file == str(project / "uv.lock")


def test_aloft_itself_is_not_installed_into_the_artifact(project: Path) -> None:
    # The artifact carries aloft's runtime already; installing aloft would pull in its CLI's
    # dependencies (pydantic, boto3, ...).
    write(project, "requirements.txt", "aloft>=0.1\nAloft[dev] == 0.1\naloft-extras\nflask\n")
    assert found(project) == ("requirements", ["aloft-extras", "flask"])
    write(project, "requirements.txt", "")
    (project / "requirements.txt").unlink()
    write(project, "uv.lock", """
[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "aloft" }, { name = "flask" }]

[[package]]
name = "aloft"
version = "0.1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pydantic" }, { name = "click" }]

[[package]]
name = "flask"
version = "3.0.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "click" }]

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pydantic"
version = "2.7.0"
source = { registry = "https://pypi.org/simple" }
""")
    assert found(project) == ("uv.lock", ["click==8.1.7", "flask==3.0.3"])


def test_uv_lock_git_url_and_path_sources(project: Path) -> None:
    write(project, "uv.lock", """
[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "tool" }, { name = "blob" }, { name = "shared" }]

[[package]]
name = "tool"
version = "1.2.0"
source = { git = "https://github.com/acme/tool?rev=main#0123abcd" }

[[package]]
name = "blob"
version = "2.0"
source = { url = "https://example.com/blob-2.0-py3-none-any.whl" }

[[package]]
name = "shared"
version = "0.1.0"
source = { directory = "../shared" }
""")
    assert found(project) == ("uv.lock", [
        "blob @ https://example.com/blob-2.0-py3-none-any.whl",
        str((project / ".." / "shared").resolve()),
        "tool @ git+https://github.com/acme/tool@0123abcd",
    ])
