"""What the template manager decides without a process: start errors, zygote keys."""

from __future__ import annotations

from pathlib import Path

from aloft.local.instances.templates import cannot_start, zygote_key
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
