"""`.env` files, as the Serverless Framework (`useDotenv`) and serverless-dotenv-plugin read them.

`KEY=value` lines; `export KEY=value`; `#` comments; single quotes keep the text as is, double
quotes understand `\\n`; `${OTHER}` in unquoted and double-quoted values expands (dotenv-expand).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from aloft.config.source import read_text
from aloft.errors import ConfigError, Location

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")
_EXPAND = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def parse_dotenv(text: str, file: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of one .env file (`env`: what `${X}` may also refer to)."""
    out: dict[str, str] = {}
    known = dict(env or {})
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ConfigError(
                f"{file.name} line {number} is not `NAME=value`",
                where=Location(file=str(file), line=number, column=1),
                fix="write one `NAME=value` per line (`#` starts a comment)",
            )
        name, value = m.group(1), m.group(2).strip()
        if value[:1] == "'" and value.rfind("'") > 0:
            value = value[1 : value.rfind("'")]
        elif value[:1] == '"' and value.rfind('"') > 0:
            value = value[1 : value.rfind('"')].replace("\\n", "\n").replace('\\"', '"')
            value = _expand(value, {**known, **out})
        else:
            value = _expand(value.split(" #", 1)[0].strip(), {**known, **out})
        out[name] = value
    return out


def _expand(value: str, known: Mapping[str, str]) -> str:
    return _EXPAND.sub(lambda m: known.get(m.group(1) or m.group(2), ""), value)


def dotenv_files(root: Path, stage: str, names: list[str] | None = None) -> list[Path]:
    """The .env files that exist for `stage`, the one that wins first: `.env.{stage}.local`,
    `.env.{stage}`, `.env.local`, `.env` (serverless-dotenv-plugin's order), or `names`."""
    candidates = names or [f".env.{stage}.local", f".env.{stage}", ".env.local", ".env"]
    return [root / n for n in candidates if (root / n).is_file()]


def load_dotenv(files: list[Path], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `files` (the first file wins on a name they share)."""
    out: dict[str, str] = {}
    for file in reversed(files):
        out.update(parse_dotenv(read_text(file), file, env))
    return out
