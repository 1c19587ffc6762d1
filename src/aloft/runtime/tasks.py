"""Placeholder replaced by the runtime work: @aloft.task."""
from __future__ import annotations
from typing import Any
def task(func: Any) -> Any:
    return func
