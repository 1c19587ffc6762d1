"""The provider contract's records and capabilities: which provider has which capability, and
a plan instruction read as a PlanStep."""

from __future__ import annotations

from pathlib import Path

from aloft.aws.provider import AwsProvider
from aloft.local.provider import LocalProvider
from aloft.provider import Certifies, DeadLetters, LocalRuns, Templates, plan_step


def test_each_provider_has_its_capabilities(tmp_path: Path) -> None:
    local, aws = LocalProvider(home=tmp_path), AwsProvider()
    assert isinstance(local, DeadLetters) and isinstance(local, LocalRuns)
    assert not isinstance(local, Certifies) and not isinstance(local, Templates)
    assert local.home == tmp_path
    assert isinstance(aws, Certifies) and isinstance(aws, Templates)
    assert isinstance(aws, DeadLetters)  # the stage's failure queue on aws
    assert not isinstance(aws, LocalRuns)


def test_a_plan_step_keeps_the_instruction_and_says_what_to_show() -> None:
    fields = {"action": "publish", "name": "app", "function": "shop-dev-app", "version": 2,
              "reason": "code changed", "config_hash": "ab" * 32, "path": None}
    step = plan_step(fields, action="action", resource="name", hidden=("function", "config_hash"))
    assert (step.action, step.resource, step.note) == ("publish", "app", None)
    assert step.details == {"version": 2, "reason": "code changed"}  # no None, nothing hidden
    assert step.fields == fields  # what --json prints, untouched


def test_a_note_is_the_steps_own() -> None:
    step = plan_step({"op": "Note", "resource": "prod", "note": "routes left as they are"},
                     action="op", resource="resource")
    assert (step.action, step.resource, step.note) == ("Note", "prod", "routes left as they are")
    assert step.details == {}
