"""aloft: serverless Python with one config file and one command.

This module is copied into every artifact together with `aloft.runtime`, so it imports the
standard library and `aloft.runtime` only. Application code uses `@aloft.task`.
"""

from __future__ import annotations

from aloft.runtime.tasks import task

__all__ = ["__version__", "task"]
__version__ = "0.1.0"
