"""Stopping a command from a hook."""

from __future__ import annotations

from aloft.errors import PluginError


class Abort(PluginError):
    """Raise from a hook to stop the command: `raise Abort("why", fix="what to do")`. The CLI
    names the plugin and the step; a deploy stopped before `apply` leaves the old version
    serving."""
