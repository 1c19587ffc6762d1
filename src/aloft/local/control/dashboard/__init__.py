"""The local cloud's web dashboard, served by the daemon under `/_aloft/` (see handler.py)."""

from aloft.local.control.dashboard.handler import handle

__all__ = ["handle"]
