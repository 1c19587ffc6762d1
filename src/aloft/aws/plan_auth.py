"""Planning the REST API's usage plan and API keys (pure): put when the declared plan, its
keys or the stage it applies to differ from what is read back; deleted when none is declared."""

from __future__ import annotations

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.auth import plan_matches
from aloft.aws.state import ActualState


def usage_plan_steps(d: s.Desired, a: ActualState, new_api: bool) -> list[st.Step]:
    """After the API's steps: `new_api` when this plan creates the API (a new id: the plan
    moves to it)."""
    want = d.api.usage_plan if d.api is not None else None
    have = a.usage_plan
    if want is None:
        return [st.DeleteUsagePlan(have.id, have.key_ids)] if have is not None else []
    stages = ((a.api.id, d.stage),) if a.api is not None and not new_api else ()
    if have is None or have.stages != stages or not plan_matches(want, have.spec):
        return [st.PutUsagePlan(want, d.stage)]
    return []
