"""What the template manager decides without a process: start errors, zygote keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from aloft.local.instances.templates import (
    ZYGOTE_IDLE,
    cannot_start,
    zygote_env,
    zygote_idle_from_env,
    zygote_key,
)
from aloft.local.types import FunctionVersion


def fv(**changes: object) -> FunctionVersion:
    base: dict[str, object] = {"function": "shop-dev-app", "version": 3, "code_dir": Path("/c"),
                               "layer_dir": Path("/l"), "memory": 256, "timeout": 6,
                               "concurrency": None, "keep_alive": 600}
    return FunctionVersion(**{**base, **changes})  # type: ignore[arg-type]


def test_start_errors_and_zygote_keys() -> None:
    assert b'"errorType": "Runtime.StartError"' in cannot_start(fv(), FileNotFoundError(2, "x"))
    one = fv(environment={"TABLE": "t", "AWS_LAMBDA_FUNCTION_VERSION": "3"})
    two = fv(version=4, environment={"TABLE": "t", "AWS_LAMBDA_FUNCTION_VERSION": "4"})
    assert zygote_key(one) == zygote_key(two)  # a code-only deploy reuses the layer's zygote
    assert zygote_key(one) != zygote_key(fv(environment={"TABLE": "other"}))
    other_python = dataclasses.replace(one, python="/usr/bin/python3.12")
    assert zygote_key(one) != zygote_key(other_python)  # a pure layer shared by two Pythons
    # Another function of the service: its own name, memory and log group, the same zygote.
    three = fv(function="shop-dev-jobs", environment={
        "TABLE": "t", "AWS_LAMBDA_FUNCTION_NAME": "shop-dev-jobs", "ALOFT_FUNCTION": "jobs",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "LD_LIBRARY_PATH": "/c2:/c2/lib"})
    assert zygote_key(one) == zygote_key(three)
    assert zygote_env(three) == {"TABLE": "t"}


def test_zygote_idle_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_ZYGOTE_IDLE", "30")
    assert zygote_idle_from_env() == 30.0
    for bad in ("soon", "-1", ""):
        monkeypatch.setenv("ALOFT_ZYGOTE_IDLE", bad)
        assert zygote_idle_from_env() == ZYGOTE_IDLE
