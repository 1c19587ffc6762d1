"""Lambda's error object for a failed init: the type Lambda's runtime reports, its message, and
the stack of the exception that started it all (through the user's modules)."""

from __future__ import annotations

from typing import Any

import pytest

from aloft.runtime.faults import init_error_object, init_log_text

HELPERS = "import not_installed_anywhere\n"
APP = "import helpers\napp = None\n"
RAISES = "import os\n\nCONFIG = os.environ['NOT_SET_ANYWHERE']\n"


def _failure(deploy: Any, modules: dict[str, str], **kw: Any) -> dict[str, Any]:
    with pytest.raises(Exception) as caught:
        deploy(modules, **kw)
    return init_error_object(caught.value)


def test_a_missing_dependency_deep_in_the_users_imports(deploy: Any) -> None:
    error = _failure(deploy, {"app": APP, "helpers": HELPERS}, app="app:app")
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'app': No module named 'not_installed_anywhere'")
    assert error["requestId"] == ""
    user = [f for f in error["stackTrace"] if "/artifact/" in f]
    assert [f.split('"')[1].rsplit("/", 1)[1] for f in user] == ["app.py", "helpers.py"]
    assert "import not_installed_anywhere" in user[-1]


def test_an_exception_raised_at_import_keeps_its_type(deploy: Any) -> None:
    error = _failure(deploy, {"conf": RAISES}, handlers={"fn": "conf.handle"})
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'NOT_SET_ANYWHERE'"
    assert "os.environ['NOT_SET_ANYWHERE']" in error["stackTrace"][-2] + error["stackTrace"][-1]


def test_a_syntax_error_ends_with_where_it_is(deploy: Any) -> None:
    error = _failure(deploy, {"bad": "x = 1\ndef broken(:\n"}, handlers={"fn": "bad.broken"})
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    last = error["stackTrace"][-1]
    assert last.startswith('  File "') and 'bad.py", line 2\n' in last
    assert "def broken(:" in last


def test_the_log_text_is_lambdas(deploy: Any) -> None:
    error = _failure(deploy, {"app": APP, "helpers": HELPERS}, app="app:app")
    text = init_log_text(error)
    first, second = text.splitlines()[:2]
    assert first == ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': "
                     "No module named 'not_installed_anywhere'")
    assert second == "Traceback (most recent call last):"
    assert init_log_text({"errorType": "T", "errorMessage": "m", "stackTrace": []}) == (
        "[ERROR] T: m\n")
