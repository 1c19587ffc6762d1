"""`ast.parse` made safe to call from several threads at once.

CPython 3.11 converts a parse tree to Python objects with a recursion counter kept in the
interpreter's shared AST state, so two threads parsing at once can leave it unbalanced and fail
with `SystemError: AST constructor recursion depth mismatch` (python/cpython#106905 and the
reports around it). Werkzeug parses while it compiles a URL map, and moto builds a service's URL
map on that service's first request: the local AWS endpoint's threaded server, and moto in
process with the AWS provider's parallel calls, hit it on concurrent first requests. One lock
around `ast.parse` in those processes is the cure; parsing is rare after start-up.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

_lock = threading.RLock()  # reentrant: a finalizer run by a collection inside parse may parse
_installed = False


def install() -> None:
    """Serialise `ast.parse` in this process (once; later calls do nothing)."""
    global _installed
    with _lock:
        if _installed:
            return
        parse = ast.parse

        @functools.wraps(parse)
        def locked_parse(*args: Any, **kwargs: Any) -> Any:
            with _lock:
                return parse(*args, **kwargs)

        ast.parse = locked_parse
        _installed = True
