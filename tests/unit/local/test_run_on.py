"""What a local deploy's functions run on (the deploy request's `runtime`), and its warnings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aloft.config.models import Service
from aloft.errors import PackageError
from aloft.local.provider import run_on
from aloft.package import provided

HOST = f"{sys.version_info.major}.{sys.version_info.minor}"


def svc(tmp_path: Path, runtime: str) -> Service:
    return Service.model_validate({"service": "shop", "stage": "dev", "root": tmp_path,
                                   "runtime": runtime, "app": "app:app"})


@pytest.fixture
def no_other_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))


def test_the_declared_python_and_its_layer(tmp_path: Path, no_other_python: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provided, "ensure_layer", lambda version, **_: tmp_path / version)
    assert run_on(svc(tmp_path, HOST), HOST) == (
        {"python": sys.executable, "layer": str(tmp_path / HOST)}, [])


def test_a_python_not_installed_and_a_layer_not_installable_are_warnings(
        tmp_path: Path, no_other_python: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(version: str, **_: object) -> Path:
        raise PackageError("cannot install Lambda's runtime layer", fix="check the connection")

    monkeypatch.setattr(provided, "ensure_layer", offline)
    runtime, warnings = run_on(svc(tmp_path, "3.99"), HOST)  # built for ours: 3.99 is missing
    assert runtime == {"python": sys.executable, "layer": None}
    assert warnings == [
        f"declared python3.99, running on {HOST}: install python3.99 to match Lambda (on PATH, "
        "or with uv or pyenv)",
        "cannot install Lambda's runtime layer; check the connection"]


def test_a_functions_own_python_and_one_not_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aloft.package import python

    installed = {HOST: sys.executable, "3.13": "/opt/py/bin/python3.13"}
    monkeypatch.setattr(python, "find_interpreter", installed.get)
    monkeypatch.setattr(provided, "ensure_layer", lambda version, **_: tmp_path / version)
    service = Service.model_validate({
        "service": "shop", "stage": "dev", "root": tmp_path, "runtime": HOST,
        "functions": {"a": {"handler": "h.a", "runtime": "3.13"},
                      "b": {"handler": "h.b", "runtime": "3.99"},
                      "c": {"handler": "h.c", "runtime": "3.13"}}})
    runtime, warnings = run_on(service, HOST)
    assert runtime == {"python": sys.executable, "layer": str(tmp_path / HOST), "versions": {
        "3.13": {"python": "/opt/py/bin/python3.13", "layer": str(tmp_path / "3.13")}}}
    assert warnings == [f"`functions.b.runtime`: Python 3.99 is not installed here, so the "
                        f"local cloud runs b with Python {HOST} (install it, e.g. `uv python "
                        f"install 3.99`)"]
