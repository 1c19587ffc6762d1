from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aloft.cli.detect import detect, service_name
from aloft.config import load_project
from tests.unit.cli.cli_helpers import Run, write


def config(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / "aloft.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_flask_app_is_detected(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "from flask import Flask\n\napplication = Flask(__name__)\n"})
    result = run("init")
    assert result.exit_code == 0, result.output
    assert config(tmp_path)["app"] == "app:application"
    assert load_project(tmp_path).service("dev").app == "app:application"


def test_fastapi_app_in_a_package_is_detected(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {
        "api/__init__.py": "",
        "api/main.py": "import fastapi\napp: fastapi.FastAPI = fastapi.FastAPI(title='x')\n",
        "tests/test_api.py": "from fastapi import FastAPI\nfake = FastAPI()\n",
    })
    result = run("init")
    assert result.exit_code == 0, result.output
    assert config(tmp_path)["app"] == "api.main:app"
    assert "fake" not in (tmp_path / "aloft.yml").read_text()


def test_django_settings_come_from_manage_py(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {
        "manage.py": "import os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n",
        "mysite/settings.py": "SECRET_KEY = 'x'\n",
        "mysite/wsgi.py": "from flask import Flask\n",
    })
    result = run("init")
    assert result.exit_code == 0, result.output
    data = config(tmp_path)
    assert data["django_settings"] == "mysite.settings"
    assert "app" not in data


def test_handlers_become_functions(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {
        "jobs.py": "def handler(event, context):\n    return 1\n",
        "lambda_function.py": "def lambda_handler(event: dict, context) -> dict:\n    return {}\n",
    })
    result = run("init")
    assert result.exit_code == 0, result.output
    service = load_project(tmp_path).service("dev")
    handlers = {name: fn.handler for name, fn in service.functions.items()}
    assert handlers == {"jobs": "jobs.handler", "lambda_function": "lambda_function.lambda_handler"}


def test_any_event_context_function_is_a_handler(tmp_path: Path) -> None:
    write(tmp_path, {"handlers.py": "def hello(event, context):\n    pass\n"
                                    "def _private(event, context):\n    pass\n"
                                    "def helper(x):\n    pass\n"
                                    "def typed(event: dict[str, list[int]], context: object):"
                                    "\n    pass\n"})
    assert detect(tmp_path).handlers == {"hello": "handlers.hello", "typed": "handlers.typed"}


def test_an_app_module_named_app_with_a_handler_gets_a_valid_function_name(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "def handler(event, context):\n    pass\n"})
    assert detect(tmp_path).handlers == {"handler": "app.handler"}


def test_nothing_found_explains_the_template_option(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"util.py": "def helper():\n    pass\n"})
    result = run("init")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error: found no Flask, FastAPI or Django app and no function")
    assert lines[1].startswith("fix:") and "--template" in lines[1]
    assert not (tmp_path / "aloft.yml").exists()


def test_an_app_factory_gets_a_specific_fix(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"shop/__init__.py": "from flask import Flask\n\n"
                                         "def create_app(config=None):\n"
                                         "    app = Flask(__name__)\n    return app\n"})
    result = run("init")
    assert result.exit_code == 2
    first, second = result.stderr.strip().splitlines()
    assert "Flask app created inside a function" in first and "shop/__init__.py" in first
    assert "from shop import create_app; app = create_app()" in second


def test_existing_config_is_kept_without_force(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                     "aloft.yml": "service: mine\napp: app:app\n"})
    result = run("init")
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert (tmp_path / "aloft.yml").read_text() == "service: mine\napp: app:app\n"
    assert run("init", "--force").exit_code == 0
    assert config(tmp_path)["app"] == "app:app"


@pytest.mark.parametrize(
    ("directory", "expected"),
    [("My App!", "my-app"), ("2fast", "app-2fast"), ("flask_hello", "flask-hello"), ("", "app")],
)
def test_service_name_is_valid(directory: str, expected: str) -> None:
    assert service_name(Path("/x") / directory if directory else Path("/")) == expected


def test_init_ignores_the_build_dir_once(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    result = run("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".gitignore").read_text() == ".aloft/\n"
    assert "Added .aloft/" in result.output
    again = run("init", "--force")
    assert again.exit_code == 0, again.output
    assert (tmp_path / ".gitignore").read_text() == ".aloft/\n"  # not twice
    assert "Added" not in again.output


@pytest.mark.parametrize("existing", ["*.pyc", "*.pyc\n", "/.aloft\n", "venv/\n.aloft/*\n"])
def test_init_keeps_an_existing_gitignore(run: Run, tmp_path: Path, existing: str) -> None:
    write(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                     ".gitignore": existing})
    assert run("init").exit_code == 0
    text = (tmp_path / ".gitignore").read_text()
    if "aloft" in existing:
        assert text == existing
    else:  # appended on a line of its own, the rest kept
        assert text == existing.rstrip("\n") + "\n.aloft/\n"


def test_a_scaffolded_project_ignores_the_build_dir(run: Run, tmp_path: Path) -> None:
    result = run("init", "--template", "flask", "proj")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj" / ".gitignore").read_text() == ".aloft/\n"
    assert "  .gitignore" in result.output


def test_the_django_template_also_ignores_its_collected_static_files(
    run: Run, tmp_path: Path
) -> None:
    write(tmp_path, {"site/.gitignore": "*.sqlite3\n/static\n"})
    result = run("init", "--template", "django", "site")
    assert result.exit_code == 0, result.output
    # `/static` was there already: only the build dir is added
    assert (tmp_path / "site" / ".gitignore").read_text() == "*.sqlite3\n/static\n.aloft/\n"
    fresh = run("init", "--template", "django", "other")
    assert fresh.exit_code == 0, fresh.output
    assert (tmp_path / "other" / ".gitignore").read_text() == ".aloft/\n/static/\n"
    config = yaml.safe_load((tmp_path / "other" / "aloft.yml").read_text())
    assert config["static"] == {"path": "/static", "directory": "static"}
    assert config["exclude"] == ["/static"]
    settings = (tmp_path / "other" / "project" / "settings.py").read_text()
    assert 'STATIC_ROOT = BASE_DIR / "static"' in settings
