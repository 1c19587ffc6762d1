"""`stage_of`: the stage model of one stage of a service, computed once from its `Service`.
Pure: no I/O, and no knowledge of which provider reads it (the `Account` says where it lives).
"""

from __future__ import annotations

from aloft.config.models import Service
from aloft.stage import events
from aloft.stage import records as r
from aloft.stage.api_auth import api_auth
from aloft.stage.functions import functions
from aloft.stage.names import Account, StageNames
from aloft.stage.release import release_commands
from aloft.stage.resources import environment, resources
from aloft.stage.values import Values


def stage_of(service: Service, account: Account, *, tasks: bool = True) -> r.Stage:
    """The stage `service` describes, living in `account`. `tasks`: whether the code calls
    `@aloft.task` (aloft.package.modules.calls_tasks; its functions may then invoke their task
    target). ConfigError for what the config cannot mean (a CloudFormation value naming
    nothing, two rules of one name, a stream event on a table without a stream)."""
    names = StageNames(service.service, service.stage, account)
    values = Values(service, names)
    declared = resources(service, names)
    bindings = events.bindings(service, names, values)
    static = None
    if service.static is not None:
        static = r.Static("/" + service.static.path.strip("/"),
                          str(service.root / service.static.directory), service.static.bucket)
    return r.Stage(
        service=service.service, stage=service.stage, account=account,
        functions=functions(service, names, values, declared, bindings,
                            environment(declared), tasks=tasks),
        routes=events.routes(service, names),
        schedules=events.schedules(service, names),
        bindings=bindings,
        event_rules=events.event_rules(service, names, values),
        alb_targets=events.alb_targets(service, names, values),
        resources=declared,
        static=static,
        secret_key_alias=names.secret_key_alias,
        release=release_commands(service),
        api_auth=api_auth(service, names),
    )
