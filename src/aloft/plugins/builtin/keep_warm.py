"""The keep-warm schedule (`keep_warm:` in aloft.yml), as a plugin.

It adds a schedule event to the app function in the model; the providers turn it into a rule
like any other schedule (an EventBridge rule on aws, a scheduler entry locally). The runtime
answers its `{"aloft": "keep_warm"}` event at once, without calling the app.
"""

from __future__ import annotations

from aloft.config.models import Event, ScheduleEvent, Service
from aloft.plugins.hookspecs import hookimpl

RULE = "keep-warm"
INPUT = {"aloft": "keep_warm"}


def keep_warm_event(service: Service) -> Event:
    return Event(schedule=ScheduleEvent(
        rate=service.keep_warm.rate, name=RULE, input=dict(INPUT),
        description="aloft keep_warm",
    ))


def with_keep_warm(service: Service) -> Service:
    """`service` with the keep-warm schedule on its app, if `keep_warm` is on (idempotent)."""
    if not (service.has_app and service.keep_warm.enabled):
        return service
    events = [e for e in service.app_events
              if not (e.schedule is not None and e.schedule.input == INPUT)]
    return service.model_copy(update={"app_events": [*events, keep_warm_event(service)]})


@hookimpl
def aloft_service(service: Service) -> Service:
    return with_keep_warm(service)
