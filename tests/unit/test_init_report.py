"""A failed init as a person reads it: Lambda's error object parsed, the user's frames kept at
their project paths (nothing of aloft, Python or the dependencies), and the probable fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aloft.init_report import (
    Frame,
    FunctionError,
    describe_init_failure,
    parse_error,
    parse_frames,
    probable_fix,
    project_frames,
)
from aloft.package.modules import CodeReference, project_code

PROJECT = Path("/home/ada/shop")
SHA = "3f" * 32
UNPACKED = f"/home/ada/.local/share/aloft/artifacts/unpacked/{SHA}"
RUN = f"/home/ada/shop/.aloft/run/{SHA}"
BUILD = "/home/ada/shop/.aloft/build/dev/code"
LIB = "/usr/lib/python3.12"


def entry(file: str, line: int, function: str | None, code: str | None = None) -> str:
    head = f'  File "{file}", line {line}' + (f", in {function}" if function else "")
    return head + "\n" + (f"    {code}\n      ^^^^^\n" if code else "")


# What an instance reports when app.py imports helpers, which imports a missing package.
STACK = [
    entry("/opt/aloft/src/aloft/local/instances/worker/instance_main.py", 268, "_run_template",
          "handler, context_cls = _initialise()"),
    entry(f"{UNPACKED}/aloft/runtime/loader.py", 26, "import_string",
          "obj: Any = importlib.import_module(module_name)"),
    entry(f"{LIB}/importlib/__init__.py", 126, "import_module",
          "return _bootstrap._gcd_import(name[level:], package, level)"),
    entry("<frozen importlib._bootstrap>", 1204, "_gcd_import"),
    entry("<frozen importlib._bootstrap_external>", 940, "exec_module"),
    entry(f"{UNPACKED}/app.py", 2, "<module>", "import helpers"),
    entry(f"{UNPACKED}/shop/helpers.py", 1, "<module>", "import requests"),
]
ERROR = {"errorMessage": "Unable to import module 'app': No module named 'requests'",
         "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": STACK}


def test_frames_are_parsed_from_lambdas_stack_trace() -> None:
    frames = parse_frames(STACK)
    assert frames[0] == Frame("/opt/aloft/src/aloft/local/instances/worker/instance_main.py", 268,
                              "_run_template", "handler, context_cls = _initialise()")
    assert frames[3] == Frame("<frozen importlib._bootstrap>", 1204, "_gcd_import", None)
    syntax = parse_frames(['  File "/x/app.py", line 3\n    def f(:\n'])
    assert syntax == [Frame("/x/app.py", 3, None, "def f(:")]
    assert parse_frames(["not a frame", ""]) == []


def test_error_object_is_parsed_from_bytes_text_or_mapping() -> None:
    for payload in (json.dumps(ERROR).encode(), json.dumps(ERROR), ERROR):
        error = parse_error(payload)
        assert error is not None and error.error_type == "Runtime.ImportModuleError"
        assert len(error.frames) == len(STACK)
    assert parse_error(b"not json") is None
    assert parse_error({"statusCode": 200}) is None
    assert parse_error({"errorMessage": "m"}) == FunctionError("Error", "m", ())


@pytest.mark.parametrize("code_dir", [UNPACKED, RUN, BUILD])
def test_only_the_users_frames_are_kept_at_their_project_paths(code_dir: str) -> None:
    stack = [s.replace(UNPACKED, code_dir) for s in STACK]
    frames = project_frames(parse_frames(stack), [code_dir], PROJECT)
    assert frames == (
        Frame(f"{PROJECT}/app.py", 2, "<module>", "import helpers"),
        Frame(f"{PROJECT}/shop/helpers.py", 1, "<module>", "import requests"),
    )


def test_frames_in_the_project_stay_but_not_its_tooling_and_repeats_go() -> None:
    frames = [
        Frame(f"{PROJECT}/app.py", 1, "<module>"),
        Frame(f"{PROJECT}/app.py", 1, "<module>"),
        Frame(f"{PROJECT}/.venv/lib/python3.12/site-packages/flask/app.py", 9, "f"),
        Frame(f"{PROJECT}/.aloft/build/dev/x.py", 9, "f"),
        Frame("/elsewhere/app.py", 1, "<module>"),
    ]
    assert project_frames(frames, [], PROJECT) == (Frame(f"{PROJECT}/app.py", 1, "<module>"),)


def test_the_report_is_the_type_line_then_the_users_frames() -> None:
    report = describe_init_failure(ERROR, code_dirs=[UNPACKED], project_root=PROJECT)
    assert report is not None
    assert report.detail().splitlines() == [
        "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
        f'  File "{PROJECT}/app.py", line 2, in <module>',
        "    import helpers",
        f'  File "{PROJECT}/shop/helpers.py", line 1, in <module>',
        "    import requests",
    ]
    assert report.fix == "add `requests` to requirements.txt"
    assert describe_init_failure(b"{}", code_dirs=[], project_root=PROJECT) is None


# --------------------------------------------------------------------------- probable fixes


def code(tmp_path: Path, files: dict[str, str]) -> object:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return project_code(tmp_path, [(rel, tmp_path / rel) for rel in sorted(files)])


def missing(module: str, importing: str = "app") -> FunctionError:
    return FunctionError("Runtime.ImportModuleError",
                         f"Unable to import module '{importing}': No module named '{module}'")


def fix(error: FunctionError, **kw: object) -> str | None:
    return probable_fix(error, (), **kw)  # type: ignore[arg-type]


def test_a_missing_dependency_names_the_distribution_to_add(tmp_path: Path) -> None:
    project = code(tmp_path, {"app.py": "import yaml\n"})
    assert fix(missing("yaml"), code=project) == "add `PyYAML` to requirements.txt"
    assert fix(missing("PIL.Image"), code=project,
               requirements_file="requirements/prod.txt") == (
        "add `Pillow` to requirements/prod.txt")
    assert fix(missing("stripe"), code=project) == "add `stripe` to requirements.txt"


def test_a_listed_dependency_that_did_not_import_says_so(tmp_path: Path) -> None:
    project = code(tmp_path, {"app.py": ""})
    text = fix(missing("yaml"), code=project, requirements=frozenset({"pyyaml"}))
    assert text is not None and text.startswith("`yaml` comes with requirements.txt but was not")
    werkzeug = fix(missing("werkzeug"), code=project, requirements=frozenset({"flask"}))
    assert werkzeug is not None and "comes with requirements.txt" in werkzeug


def test_a_wrong_module_in_the_handler_suggests_the_close_one(tmp_path: Path) -> None:
    project = code(tmp_path, {"handlers.py": "def hello(e, c): ...\n", "app.py": ""})
    ref = CodeReference("handler", "handler.hello")
    assert fix(missing("handler", "handler"), code=project, ref=ref) == (
        "`handler: handler.hello` names module `handler`, which is not in the project: "
        "did you mean `handlers.hello`?")
    app_ref = CodeReference("app", "aap:app")
    assert fix(missing("aap", "aap"), code=project, ref=app_ref) == (
        "`app: aap:app` names module `aap`, which is not in the project: did you mean `app:app`?")
    nothing = CodeReference("handler", "zzz.run")
    assert fix(missing("zzz", "zzz"), code=project, ref=nothing) == (
        "`handler: zzz.run` names module `zzz`, which is not in the project: correct it in "
        "aloft.yml")


def test_a_missing_submodule_of_the_project_suggests_the_close_one(tmp_path: Path) -> None:
    project = code(tmp_path, {"shop/__init__.py": "", "shop/views.py": "", "app.py": ""})
    assert fix(missing("shop.veiws"), code=project) == (
        "the project has no module `shop.veiws`: did you mean `shop.views`?")


def test_a_module_the_package_leaves_out_says_so(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("X = 1\n")
    project = code(tmp_path, {"app.py": "import helpers\n"})  # helpers.py excluded
    text = fix(missing("helpers"), code=project)
    assert text is not None and text.startswith("`helpers` is in the project but not in the")


def test_a_missing_handler_suggests_a_close_name_or_another_module(tmp_path: Path) -> None:
    project = code(tmp_path, {"handlers.py": "def hello(e, c): ...\n",
                              "jobs.py": "def nightly(e, c): ...\n"})
    typo = FunctionError("Runtime.HandlerNotFound", "Handler 'helo' missing on module 'handlers'")
    assert fix(typo, code=project, ref=CodeReference("handler", "handlers.helo")) == (
        "`handler: handlers.helo`: handlers.py has no `helo`: did you mean `handlers.hello`?")
    moved = FunctionError("Runtime.HandlerNotFound",
                          "Handler 'nightly' missing on module 'handlers'")
    assert fix(moved, code=project, ref=CodeReference("handler", "handlers.nightly")) == (
        "`handler: handlers.nightly`: module `handlers` has no `nightly`: did you mean "
        "`jobs.nightly`?")
    app = FunctionError("Runtime.HandlerNotFound", "App 'aplication' missing on module 'handlers'")
    assert fix(app, code=code(tmp_path, {"handlers.py": "application = object()\n"}),
               ref=CodeReference("app", "handlers:aplication")) == (
        "`app: handlers:aplication`: handlers.py has no `aplication`: did you mean "
        "`handlers:application`?")
    unknown = FunctionError("Runtime.HandlerNotFound", "Handler 'zzz' missing on module 'jobs'")
    assert fix(unknown, code=project, ref=CodeReference("handler", "jobs.zzz")) == (
        "define `zzz` in module `jobs`, or correct `handler:` in aloft.yml")


def test_a_module_named_as_a_standard_library_one_says_to_rename_it(tmp_path: Path) -> None:
    """site.py, code.py, secrets.py...: the runtime imported Python's own before the user's."""
    project = code(tmp_path, {"site.py": "def app(environ, start_response): ...\n"})
    shadowed = FunctionError("Runtime.HandlerNotFound", "App 'app' missing on module 'site'")
    assert fix(shadowed, code=project, ref=CodeReference("app", "site:app")) == (
        "`site` is also a module of Python's standard library, which was imported instead of "
        "site.py (on Lambda too): rename it, e.g. to site_app, and `app:` with it")


def test_cannot_import_name(tmp_path: Path) -> None:
    project = code(tmp_path, {"models.py": "class Order: ...\n"})
    error = FunctionError("Runtime.ImportModuleError",
                          "Unable to import module 'app': cannot import name 'Ordr' from "
                          "'models' (/x/models.py)")
    assert fix(error, code=project) == "module `models` has no `Ordr`: did you mean `Order`?"
    third = FunctionError("Runtime.ImportModuleError",
                          "Unable to import module 'app': cannot import name 'soup' from 'bs4'")
    assert fix(third, code=project) == (
        "`bs4` has no `soup`: check the version of `beautifulsoup4` in requirements.txt")


def test_fixes_that_point_at_the_users_line() -> None:
    at = (Frame("/p/app.py", 3, None, "def f(:"),)
    syntax = FunctionError("Runtime.UserCodeSyntaxError", "Syntax error in module 'app': x")
    assert probable_fix(syntax, at) == "correct the syntax at /p/app.py:3"
    env = (Frame("/p/conf.py", 2, "<module>", "TOKEN = os.environ['API_TOKEN']"),)
    assert probable_fix(FunctionError("KeyError", "'API_TOKEN'"), env) == (
        "the environment variable `API_TOKEN` is not set: add it under `environment:` in "
        "aloft.yml (or read it with a default)")
    raised = (Frame("/p/app.py", 9, "<module>", "setup()"),)
    assert probable_fix(FunctionError("ValueError", "bad"), raised) == (
        "correct the code at /p/app.py:9: it runs when the module is imported, in every cold "
        "start")
    assert probable_fix(FunctionError("ValueError", "bad"), ()) is None
    assert probable_fix(FunctionError("Runtime.InitError", "settings"), raised) is None

