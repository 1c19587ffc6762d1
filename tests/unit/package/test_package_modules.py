"""The project's modules read with ast: top-level names, imports (optional ones marked,
relative ones resolved), packages and namespace packages, what the package leaves out."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.package.modules import (
    ImportRef,
    calls_tasks,
    imports_zappa,
    module_facts,
    module_name,
    project_code,
)

SOURCE = '''
from __future__ import annotations
import os, json as j
import xml.etree.ElementTree
from typing import TYPE_CHECKING
from flask import Flask, request as req
from .models import Order
from .. import settings
from . import views

try:
    import ujson
except ImportError:
    ujson = None

if TYPE_CHECKING:
    from mypy_extensions import Arg

if os.environ.get("X"):
    import redis

app = Flask(__name__)
a, (b, *c) = 1, (2, 3)
count: int = 0

def handler(event, context):
    import boto3  # not top level
    return 1

async def ahandler(event, context): ...

class Resource: ...
'''


def test_top_level_names_and_imports() -> None:
    facts = module_facts("shop.api.routes", Path("/p/shop/api/routes.py"), SOURCE)
    assert {"os", "j", "xml", "Flask", "req", "Order", "settings", "views", "ujson", "Arg",
            "redis", "app", "a", "b", "c", "count", "handler", "ahandler",
            "Resource"} <= facts.names
    assert "boto3" not in facts.names and not facts.star and facts.syntax_error is None
    imports = {i.module: i for i in facts.imports}
    assert imports["os"] == ImportRef("os", 3)
    assert imports["xml.etree.ElementTree"].line == 4
    assert imports["shop.api.models"] == ImportRef("shop.api.models", 7, relative=True,
                                                   names=("Order",))
    assert imports["flask"].names == ("Flask", "request")
    assert imports["shop"].relative  # `from .. import settings`
    assert imports["shop.api"].relative  # `from . import views`
    assert imports["ujson"].optional and imports["mypy_extensions"].optional
    assert not imports["redis"].optional  # a condition is not a guard
    assert "boto3" not in imports


def test_relative_imports_in_a_package_init() -> None:
    facts = module_facts("shop", Path("/p/shop/__init__.py"), "from .views import x\n",
                         is_package=True)
    assert facts.imports == (ImportRef("shop.views", 1, relative=True, names=("x",)),)


def test_star_imports_and_syntax_errors() -> None:
    assert module_facts("m", Path("m.py"), "from os.path import *\n").star
    broken = module_facts("m", Path("m.py"), "x = 1\ndef f(:\n")
    assert broken.syntax_error is not None and "line 2" in broken.syntax_error


def test_module_names() -> None:
    assert module_name("app.py") == "app"
    assert module_name("shop/views.py") == "shop.views"
    assert module_name("shop/__init__.py") == "shop"
    assert module_name("my-scripts/run.py") is None
    assert module_name("README.md") is None


def test_project_code(tmp_path: Path) -> None:
    files = {"app.py": "def run(): ...\n", "shop/__init__.py": "X = 1\n",
             "shop/views.py": "def index(): ...\n", "ns/inner/mod.py": "Y = 2\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "left_out.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    code = project_code(tmp_path, [(rel, tmp_path / rel) for rel in sorted(files)])
    assert set(code.modules) == {"app", "shop", "shop.views", "ns", "ns.inner", "ns.inner.mod"}
    assert code.top_level() == {"app", "shop", "ns"}
    assert code.unpackaged == {"left_out", "tests"}
    assert code.defines("app", "run") is True
    assert code.defines("app", "nope") is False
    assert code.defines("shop", "views") is True  # a submodule is an attribute once imported
    assert code.defines("ns", "anything") is None  # a namespace package: cannot be known
    assert code.defines("missing", "x") is None


@pytest.mark.parametrize(("source", "shim"), [
    ("from zappa.asynchronous import task\n", True),
    ("import zappa.asynchronous\n", True),
    ("from zappa import asynchronous\n", True),
    ("from zappa.cli import ZappaCLI\n", False),  # the real Zappa: not what aloft stands in for
    ("import aloft\n", False),
])
def test_zappas_tasks_get_aloft_stand_in(tmp_path: Path, source: str, shim: bool) -> None:
    (tmp_path / "jobs.py").write_text(source)
    files = [("jobs.py", tmp_path / "jobs.py")]
    assert imports_zappa(files) is shim
    # the functions of a project with tasks (aloft's or Zappa's) may invoke their task target
    assert calls_tasks(files) is (shim or source == "import aloft\n")
    # a project with a zappa package of its own keeps it
    (tmp_path / "zappa").mkdir()
    (tmp_path / "zappa" / "__init__.py").write_text("")
    assert not imports_zappa([*files, ("zappa/__init__.py", tmp_path / "zappa" / "__init__.py")])
