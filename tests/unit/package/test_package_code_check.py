"""What validate checks in the code without running it: references to modules and names, the
modules the functions import (syntax, project imports), third-party imports against the
requirements (warnings: another requirement may install them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.config.source import KeyPath
from aloft.errors import Location
from aloft.package.code_check import CodeProblems, check_code, reachable
from aloft.package.modules import project_code


def service(tmp_path: Path, **data: Any) -> Service:
    return Service.model_validate({"service": "shop", "stage": "dev", "root": tmp_path, **data})


def locate(path: KeyPath) -> Location:
    return Location(file="aloft.yml", line=len(path), key_path=".".join(map(str, path)))


def check(tmp_path: Path, files: dict[str, str],
          requirements: frozenset[str] | set[str] = frozenset(), **data: Any) -> CodeProblems:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code = project_code(tmp_path, [(rel, tmp_path / rel) for rel in sorted(files)])
    return check_code(service(tmp_path, **data), code, frozenset(requirements), locate)


def messages(problems: CodeProblems) -> list[tuple[str, str | None]]:
    return [(e.message, e.fix) for e in problems.errors]


def test_references_to_missing_modules_and_names(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {"app.py": "app = object()\n", "handlers.py": "def hello(e, c): ...\n",
         "jobs.py": "def nightly(e, c): ...\n"},
        app="ap:app",
        functions={"a": {"handler": "handler.hello"}, "b": {"handler": "handlers.helo"},
                   "c": {"handler": "handlers.nightly"}, "d": {"handler": "zzz.run"}},
        exception_handler="handlers.on_error",
    )
    assert messages(problems) == [
        ("`app: ap:app`: the project has no module `ap`", "did you mean `app:app`?"),
        ("`handler: handler.hello`: the project has no module `handler`",
         "did you mean `handlers.hello`?"),
        ("`handler: handlers.helo`: handlers.py does not define `helo`",
         "did you mean `handlers.hello`?"),
        ("`handler: handlers.nightly`: handlers.py does not define `nightly`",
         "did you mean `jobs.nightly`?"),
        ("`handler: zzz.run`: the project has no module `zzz`",
         "name a module of the project by its dotted path from the project's directory "
         "(`app:app` for app.py, `jobs.run` for a `run` in jobs.py)"),
        ("`exception_handler: handlers.on_error`: handlers.py does not define `on_error`",
         "define `on_error` in handlers.py, or correct `exception_handler:`"),
    ]
    assert [e.where.key_path for e in problems.errors if e.where] == [
        "app", "functions.a.handler", "functions.b.handler", "functions.c.handler",
        "functions.d.handler", "exception_handler"]


def test_names_a_module_may_have_are_not_flagged(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {"app.py": "from flask import *\n", "pkg/__init__.py": "", "pkg/jobs.py": "",
         "ns/mod.py": "from .other import run\n", "ns/other.py": "def run(e, c): ...\n"},
        app="app:app", functions={"a": {"handler": "pkg.jobs"}, "b": {"handler": "ns.mod.run"}},
        requirements={"flask"},
    )
    assert problems.errors == [] and problems.warnings == []


def test_imports_of_the_project_are_checked_at_their_line(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {"app.py": "import helpers\nfrom shop.models import Ordr\napp = 1\n",
         "helpers.py": "import shop.veiws\n", "shop/__init__.py": "",
         "shop/models.py": "class Order: ...\n", "shop/views.py": "",
         "broken.py": "def f(:\n", "unused.py": "import broken\nfrom nowhere import x\n"},
        app="app:app",
    )
    assert messages(problems) == [
        ("`from shop.models import Ordr`: shop/models.py does not define `Ordr`",
         "did you mean `Order`?"),
        ("`import shop.veiws`: the project has no module `shop.veiws`",
         "did you mean `shop.views`?"),
    ]
    where = [(Path(e.where.file).name, e.where.line) for e in problems.errors if e.where]
    assert where == [("app.py", 2), ("helpers.py", 1)]
    assert problems.warnings == []  # unused.py and broken.py are not imported by a function


def test_a_module_that_does_not_parse_is_an_error_at_its_line(tmp_path: Path) -> None:
    problems = check(tmp_path, {"app.py": "import helpers\napp = 1\n",
                                "helpers.py": "x = 1\n\ndef f(:\n"}, app="app:app")
    [error] = problems.errors
    assert error.message.startswith("helpers.py does not parse: ")
    assert error.where is not None and error.where.line == 3


def test_third_party_imports_against_the_requirements(tmp_path: Path) -> None:
    files = {"app.py": (
        "import os, json\nimport yaml\nimport werkzeug\nimport requests\nimport boto3\n"
        "from PIL import Image\nimport stripe\nimport stripe.api\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\napp = 1\n")}
    problems = check(tmp_path, files, {"pyyaml", "flask", "pillow"}, app="app:app")
    assert problems.errors == []  # boto3: Lambda's runtime and the local cloud provide it
    assert problems.warnings == [
        "app.py:4 imports `requests`, which is neither in the project nor in requirements.txt: "
        "add `requests` to it, unless another requirement installs it",
        "app.py:7 imports `stripe`, which is neither in the project nor in requirements.txt: "
        "add `stripe` to it, unless another requirement installs it",
    ]
    aws = check(tmp_path, files, {"pyyaml", "flask", "pillow", "requests", "stripe"},
                app="app:app", provider="aws")
    assert aws.warnings == []


def test_django_projects_have_every_module_checked(tmp_path: Path) -> None:
    problems = check(tmp_path, {"site_/settings.py": "", "site_/__init__.py": "",
                                "blog/views.py": "import markdown\n"},
                     django_settings="site_.settings")
    assert problems.errors == []
    assert [w.split(" imports")[0] for w in problems.warnings] == ["blog/views.py:1"]
    missing = check(tmp_path, {"site_/__init__.py": "", "site_/settings.py": ""},
                    django_settings="site_.setings")
    assert messages(missing)[0][1] == "did you mean `site_.settings`?"


def test_reachable_follows_project_imports_only(tmp_path: Path) -> None:
    files = {"app.py": "import a\n", "a.py": "from pkg import b\n", "pkg/__init__.py": "",
             "pkg/b.py": "import os\n", "c.py": ""}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code = project_code(tmp_path, [(rel, tmp_path / rel) for rel in sorted(files)])
    assert [m.name for m in reachable(code, ["app"])] == ["a", "app", "pkg", "pkg.b"]
