"""aloft plugins: hooks before, at and after every command step, model and packaging hooks,
CLI commands and config sections (pluggy, project name `aloft`). See docs/plugins.md.

A plugin module:

    from aloft.plugins import Abort, hookimpl

    @hookimpl
    def aloft_before_step(step, context):
        if step == "deploy:apply" and context.stage == "prod" and not context.config("guard"):
            raise Abort("prod deploys need a guard section", fix="add `guard: {}`")
"""

from aloft.plugins.context import Context
from aloft.plugins.errors import Abort
from aloft.plugins.hookspecs import hookimpl, hookspec
from aloft.plugins.lifecycle import DEPLOY_STEPS, Lifecycle
from aloft.plugins.loading import ENTRY_POINT_GROUP, builtin_plugins, load_plugins, load_service
from aloft.plugins.manager import Plugins

__all__ = [
    "DEPLOY_STEPS",
    "ENTRY_POINT_GROUP",
    "Abort",
    "Context",
    "Lifecycle",
    "Plugins",
    "builtin_plugins",
    "hookimpl",
    "hookspec",
    "load_plugins",
    "load_service",
]
