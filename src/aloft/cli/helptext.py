"""Help text helpers: every command's --help ends with an Examples section."""

from __future__ import annotations


def examples(*lines: str) -> str:
    """A click epilog listing example command lines, kept verbatim (`\\b` stops rewrapping)."""
    body = "\n".join(f"  {line}" for line in lines)
    return f"Examples:\n\n\b\n{body}"
