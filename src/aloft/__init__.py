"""aloft: serverless Python with one config file and one command.

This module is copied into every artifact together with `aloft.runtime`, so it imports the
standard library and `aloft.runtime` only. Application code uses `@aloft.task`, imported on
first use: every cold start imports this package (the runtime is in it), few use tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aloft.runtime.tasks import task

__all__ = ["__version__", "task"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "task":
        from aloft.runtime.tasks import task

        globals()["task"] = task  # later lookups find it without coming here
        return task
    raise AttributeError(f"module 'aloft' has no attribute {name!r}")
