"""What a deploy changes, as a person reads it in `--plan`: `memory 256 → 512`,
`environment +API_URL=***, -DEBUG`. Both providers describe their updates with these. Pure.

Environment values are never shown (they may be secrets): a key added or changed shows `***`.
"""

from __future__ import annotations

from collections.abc import Mapping

ARROW = "→"
MASK = "***"


def value_change(label: str, old: object, new: object) -> str:
    """`memory 256 → 512` (`none` for an unset value)."""
    return f"{label} {_text(old)} {ARROW} {_text(new)}"


def _text(value: object) -> str:
    return "none" if value is None or value == "" else str(value)


def environment_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """`+NEW=***, ~CHANGED=***, -GONE`: the keys, never the values ("" when equal)."""
    out = [f"+{k}={MASK}" for k in new if k not in old]
    out += [f"~{k}={MASK}" for k in new if k in old and old[k] != new[k]]
    out += [f"-{k}" for k in old if k not in new]
    return ", ".join(out)
