"""A plain WSGI app (no dependencies): says which version of the stage answered."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({
        "path": environ.get("PATH_INFO", "/"),
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
