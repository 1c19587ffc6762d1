"""Variables in string values: `${env:NAME}`, `${stage}`, `${self:a.b}`, `${file(x.yml):key}`, ...

A value that is exactly one variable takes the variable's value and type (a number, a mapping);
inside text the value is substituted. Variables nest (`${self:custom.${opt:stage}}`) and take
fallbacks (`${env:NAME, default}`, `${opt:stage, 'dev'}`). Values only a deployed stage knows
(`${ssm:/path}`, `${cf:stack.Output}`, `${s3:bucket/key}`, `${aws:accountId}`) are left in place
(aloft.config.variable_sources). Self references resolve against the merged stage, recursively,
with cycles reported as `a -> b -> a`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aloft.config.locate import Locator
from aloft.config.source import KeyPath, format_path, has_part, load_document
from aloft.config.variable_sources import (
    DEFAULT_REGION,
    DEFERRED,
    LOCAL_REGION,
    PLUGIN_SOURCES,
    split_arguments,
    str_to_bool,
)
from aloft.errors import ConfigError, ConfigErrors

_COMMON = {"env", "self", "file", "opt", "sls", "aws", "ssm", "cf", "s3", "strToBool", "split"}
ALOFT_SOURCES = frozenset({*_COMMON, "stage"})
SERVERLESS_SOURCES = frozenset({*_COMMON, "param"})
FILE_SUFFIXES = (".yml", ".yaml", ".json")

_REF = re.compile(r"^(?P<source>[a-zA-Z][a-zA-Z0-9]*)(?:\((?P<arg>[^)]*)\))?(?::(?P<address>.*))?$",
                  re.DOTALL)
_CFN_SUB = re.compile(r"^(AWS::[A-Za-z]+|[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9.]+)?)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class VariableContext:
    """What variables may refer to besides the document itself."""

    stage: str
    env: Mapping[str, str]
    base_dir: Path
    options: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    sources: frozenset[str] = ALOFT_SOURCES
    keep: frozenset[str] = frozenset()
    """Sources left as `${...}` text (besides the deferred ones): used when converting to
    aloft.yml; `stage` keeps the stage (`${opt:stage}`, `${sls:stage}`) as `${stage}`."""
    cloudformation: bool = False
    """Leave `${AWS::Region}` / `${Bucket.Arn}` (Fn::Sub references) alone, as serverless does."""
    region_path: KeyPath = ("aws", "region")
    """Where the document sets the stage's region (`${aws:region}` when no --region)."""
    provider_path: KeyPath | None = ("provider",)
    """Where the document names the stage's provider (None: only the `provider` option does,
    else it is local). On the local provider `${aws:region}` is the local cloud's region."""
    instance_id: str = ""
    """`${sls:instanceId}`: one value per run of aloft."""
    constructs: Callable[[str, KeyPath], Any] | None = None
    """`${construct:name.property}` (serverless-lift), when the plugin is listed."""


@dataclass(frozen=True)
class _Ref:
    """One variable reference: `${source(arg):address}` written at `path`; `keep`: the value
    is the whole text (not inside another variable's address)."""

    source: str
    arg: str
    address: str
    path: KeyPath
    keep: bool


@dataclass(frozen=True)
class _Kept:
    """A variable left in place; `text` is its `${...}` form with nested variables resolved."""

    text: str


def find_spans(text: str) -> list[tuple[int, int]]:
    """Top-level `${...}` spans as (start, end) indexes, braces nested."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (start := text.find("${", pos)) != -1:
        depth, i = 0, start
        while i < len(text):
            if text.startswith("${", i):
                depth += 1
                i += 2
                continue
            if text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        if depth != 0:
            raise ValueError(f"`{text[start:]}` has no closing `}}`")
        spans.append((start, i + 1))
        pos = i + 1
    return spans


def _unkeep_stage(value: Any, stage: str) -> Any:
    if isinstance(value, str):
        return value.replace("${stage}", stage)
    if isinstance(value, dict):
        return {k: _unkeep_stage(v, stage) for k, v in value.items()}
    if isinstance(value, list):
        return [_unkeep_stage(v, stage) for v in value]
    return value


def has_variables(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def split_alternatives(expr: str) -> list[str]:
    """`env:A, 'x, y'` -> ['env:A', "'x, y'"]: commas outside quotes and parentheses."""
    parts: list[str] = []
    depth, quote, current = 0, "", ""
    for char in expr:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return parts


class _Unresolved(Exception):
    """A value refers to one that could not be resolved, whose error is reported already."""


class Resolver:
    """Resolves every variable in one document (a merged stage, or a serverless.yml)."""

    def __init__(self, root: dict[str, Any], ctx: VariableContext, locator: Locator):
        self.root = root
        self.ctx = ctx
        self.locator = locator
        self._done: dict[KeyPath, Any] = {}
        self._active: list[KeyPath] = []
        self._files: list[Path] = []
        self._params: list[str] = []
        self._errors: list[ConfigError] | None = None  # collected by resolve_all
        self._failed: set[KeyPath] = set()  # the values that could not be resolved

    # -- walking -------------------------------------------------------------

    def resolve_all(self) -> dict[str, Any]:
        """The document with every variable resolved; every value that cannot be is reported
        (ConfigErrors), not only the first one."""
        self._errors, self._failed = [], set()
        try:
            out = self._node((), self.root)
        finally:
            errors, self._errors, self._failed = self._errors, None, set()
        if errors:
            raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
        assert isinstance(out, dict)
        return out

    def _node(self, path: KeyPath, value: Any) -> Any:
        """Resolve `value`, written at `path` of the root (memoised, cycles detected)."""
        if path in self._done:
            return self._done[path]
        if path in self._active:
            chain = [*self._active[self._active.index(path) :], path]
            raise self.locator.error(
                path,
                "variables refer to each other in a cycle: "
                + " -> ".join(format_path(p) or "(root)" for p in chain),
                "make one of these values a plain value",
            )
        self._active.append(path)
        try:
            if isinstance(value, dict):
                result: Any = {k: self._node((*path, k), v) for k, v in value.items()}
            elif isinstance(value, list):
                result = [self._node((*path, i), v) for i, v in enumerate(value)]
            elif isinstance(value, str):
                result = self._leaf(value, path)
            else:
                result = value
        finally:
            self._active.pop()
        self._done[path] = result
        return result

    def _leaf(self, value: str, path: KeyPath) -> Any:
        """A string's value; while resolve_all walks, a value that cannot be resolved is
        noted and left as written, so that the walk goes on to find the others (a value that
        refers to it resolves without a second error of its own)."""
        try:
            return self.text(value, path)
        except _Unresolved:  # (only while collecting: see _self)
            self._failed.add(path)
            return value
        except ConfigError as exc:
            if self._errors is None:
                raise
            self._failed.add(path)
            if not any(str(exc) == str(seen) for seen in self._errors):
                self._errors.append(exc)
            return value

    def _detached(self, value: Any, path: KeyPath) -> Any:
        """Resolve a value that is not part of the root (a file's content); errors at `path`."""
        if isinstance(value, dict):
            return {k: self._detached(v, path) for k, v in value.items()}
        if isinstance(value, list):
            return [self._detached(v, path) for v in value]
        if isinstance(value, str):
            return self.text(value, path)
        return value

    # -- text ----------------------------------------------------------------

    def text(self, text: str, path: KeyPath, *, keep: bool = True) -> Any:
        """Resolve the variables of one string; a lone variable keeps its value's type."""
        if "${" not in text:
            return text
        try:
            spans = find_spans(text)
        except ValueError as exc:
            raise self.locator.error(path, str(exc), "close the variable with `}`") from None
        if len(spans) == 1 and spans[0] == (0, len(text)):
            value = self.expression(text[2:-1], path, keep=keep)
            return value.text if isinstance(value, _Kept) else value
        out, pos = "", 0
        for start, end in spans:
            out += text[pos:start]
            value = self.expression(text[start + 2 : end - 1], path, keep=keep)
            out += self._as_text(value, text[start:end], path)
            pos = end
        return out + text[pos:]

    def _as_text(self, value: Any, written: str, path: KeyPath) -> str:
        if isinstance(value, _Kept):
            return value.text
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            raise self.locator.error(
                path, f"`{written}` is a {'mapping' if isinstance(value, dict) else 'list'} and "
                "cannot be inserted into text",
                "make the variable the whole value, or refer to one of its keys",
            )
        if value is None:
            raise self.locator.error(path, f"`{written}` is empty and cannot be inserted into text")
        return str(value)

    def expression(self, expr: str, path: KeyPath, *, keep: bool = True) -> Any:
        """The value of the inside of one `${...}`, alternatives tried in order."""
        if "${" in expr:
            # Nested variables form the address: they must resolve to text now.
            expr = str(self.text(expr, path, keep=False))
        alternatives = split_alternatives(expr)
        first = _REF.match(alternatives[0])
        if not first or not self._is_source(first.group("source")):
            # CloudFormation's own `${AWS::Region}` / `${Table.Arn}` (serverless.yml leaves
            # them anywhere; aloft.yml inside Fn::Sub)
            if (self.ctx.cloudformation or "Fn::Sub" in path) and _CFN_SUB.match(expr):
                return _Kept("${" + expr + "}")
            raise self._unknown_source(alternatives[0], path)
        source = first.group("source")
        if self._deferred(source, first.group("address")):
            if not keep:
                raise self.locator.error(
                    path, f"`${{{expr}}}` cannot be used inside another variable",
                    f"{source} values are read at deploy time; use them as a whole value",
                )
            return _Kept(self._kept_text(alternatives, path))
        if keep and source in self.ctx.keep:
            return _Kept("${" + expr + "}")
        for alternative in alternatives:
            value = self._alternative(alternative, path, keep)
            if value is not MISSING and (value is not None or alternative is alternatives[-1]):
                return value
        raise self._missing(alternatives[0], path)

    def _deferred(self, source: str, address: str | None) -> bool:
        return source in DEFERRED or (source == "aws" and (address or "").strip() == "accountId")

    def _kept_text(self, alternatives: list[str], path: KeyPath) -> str:
        """A deferred variable as text, its fallback (if any) resolved to a quoted literal."""
        text = "${" + alternatives[0]
        for alternative in alternatives[1:]:
            m = _REF.match(alternative)
            if m and self._is_source(m.group("source")) and self._deferred(
                    m.group("source"), m.group("address")):
                continue  # a second deferred source: the first one's fallback is what follows
            value = self._alternative(alternative, path, False)
            if value is MISSING:
                continue
            if isinstance(value, dict | list):
                raise self.locator.error(
                    path, f"the fallback of `${{{alternatives[0]}}}` must be text or a number",
                    "write a quoted value, e.g. `'local value'`")
            shown = self._as_text(value, alternative, path).replace("'", "")
            return f"{text}, '{shown}'}}"
        return text + "}"

    def _is_source(self, name: str) -> bool:
        if name == "construct":
            return self.ctx.constructs is not None
        return name in self.ctx.sources

    def _region(self, path: KeyPath) -> Any:
        """`${aws:region}`: the region the stage is deployed in, as `AWS::Region`. On the local
        provider the local cloud's (whose account `${aws:accountId}` is); on aws the region
        option, else the document's region, else us-east-1."""
        if self._provider(path) == "local":
            return LOCAL_REGION
        if self.ctx.options.get("region"):
            return self.ctx.options["region"]
        value = self._self(".".join(str(p) for p in self.ctx.region_path), path)
        return DEFAULT_REGION if value is MISSING or value is None else value

    def _provider(self, path: KeyPath) -> str:
        """The stage's provider: the `provider` option, else the document's, else local."""
        if self.ctx.options.get("provider"):
            return self.ctx.options["provider"]
        if self.ctx.provider_path is None:
            return "local"
        value = self._self(".".join(str(p) for p in self.ctx.provider_path), path)
        return "local" if value is MISSING or value is None else str(value)

    def _alternative(self, text: str, path: KeyPath, keep: bool) -> Any:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return text[1:-1]
        m = _REF.match(text)
        if m and self._is_source(m.group("source")) and (
            m.group("address") is not None or m.group("arg") is not None
            or m.group("source") == "stage"
        ):
            return self._reference(m.group("source"), m.group("arg"), m.group("address"), path,
                                   keep)
        if text == "":
            return MISSING
        if _NUMBER.match(text):
            return float(text) if "." in text else int(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        return text

    def _reference(self, source: str, arg: str | None, address: str | None, path: KeyPath,
                   keep: bool = False) -> Any:
        read = self._SOURCES.get(source)
        if read is None:  # pragma: no cover - sources are checked before
            raise self._unknown_source(source, path)
        return read(self, _Ref(source, arg or "", (address or "").strip(), path, keep))

    # -- one method per source: the value, or MISSING ----------------------------

    def _env(self, r: _Ref) -> Any:
        return self.ctx.env.get(r.address, MISSING)

    def _stage(self, r: _Ref) -> Any:
        return _Kept("${stage}") if r.keep and "stage" in self.ctx.keep else self.ctx.stage

    def _opt(self, r: _Ref) -> Any:
        if r.address == "stage":
            return self._stage(r)
        return self.ctx.options.get(r.address, MISSING)

    def _sls(self, r: _Ref) -> Any:
        if r.address == "stage":
            return self._stage(r)
        if r.address == "instanceId":
            # converting keeps it a variable: a value would be frozen into aloft.yml
            return _Kept("${sls:instanceId}") if r.keep and "instanceId" in self.ctx.keep \
                else self.ctx.instance_id
        raise self.locator.error(r.path, f"`${{sls:{r.address}}}` is not a Serverless variable",
                                 "use `${sls:stage}` or `${sls:instanceId}`")

    def _aws(self, r: _Ref) -> Any:
        if r.address == "region":
            return self._region(r.path)
        raise self.locator.error(r.path, f"`${{aws:{r.address}}}` is not known",
                                 "use `${aws:region}` or `${aws:accountId}`")

    def _str_to_bool(self, r: _Ref) -> Any:
        try:
            return str_to_bool(r.arg)
        except ValueError as exc:
            raise self.locator.error(r.path, str(exc), "write `${strToBool(true)}`, or "
                                     "`${strToBool(${env:FLAG})}`") from None

    def _split(self, r: _Ref) -> Any:
        try:
            text, delimiter = split_arguments(r.arg)
        except ValueError as exc:
            raise self.locator.error(r.path, str(exc)) from None
        return text.split(delimiter)

    def _construct(self, r: _Ref) -> Any:
        assert self.ctx.constructs is not None  # a source only with serverless-lift
        try:
            return self.ctx.constructs(r.address, r.path)
        except ConfigError as exc:
            raise self.locator.error(r.path, exc.message, exc.fix) from None

    def _param(self, r: _Ref) -> Any:
        value = self.ctx.params.get(r.address, MISSING)
        if value is MISSING:
            return value
        if r.address in self._params:
            chain = " -> ".join([*self._params[self._params.index(r.address):], r.address])
            raise self.locator.error(r.path, f"params refer to each other in a cycle: {chain}")
        self._params.append(r.address)
        try:
            return self._detached(value, r.path)
        finally:
            self._params.pop()

    def _self_source(self, r: _Ref) -> Any:
        value = self._self(r.address, r.path)
        if not r.keep and "stage" in self.ctx.keep:
            value = _unkeep_stage(value, self.ctx.stage)  # inside an address: the name
        return value

    def _file_source(self, r: _Ref) -> Any:
        return self._file(r.arg.strip(), r.address, r.path)

    _SOURCES: dict[str, Callable[[Resolver, _Ref], Any]] = {
        "env": _env, "stage": _stage, "opt": _opt, "sls": _sls, "aws": _aws,
        "strToBool": _str_to_bool, "split": _split, "construct": _construct,
        "param": _param, "self": _self_source, "file": _file_source,
    }

    # -- self and file -------------------------------------------------------

    def _self(self, address: str, path: KeyPath) -> Any:
        if not address:
            raise self.locator.error(path, "`${self:}` needs a key path, e.g. `${self:service}`")
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in address.split(".")]
        current: Any = self.root
        at: KeyPath = ()
        resolved = False
        for part in parts:
            if has_variables(current):
                current, resolved = self._node(at, current), True
            if at in self._failed:
                raise _Unresolved
            if not has_part(current, part):
                return MISSING
            current = current[part]
            at = (*at, part)
        value = current if resolved else self._node(at, current)
        if self._failed and any(failed[: len(at)] == at or at[: len(failed)] == failed
                                for failed in self._failed):
            raise _Unresolved  # (what it would say follows from that value's own error)
        return value

    def _file(self, name: str, address: str, path: KeyPath) -> Any:
        name = name.strip("'\"")
        if not name:
            raise self.locator.error(path, "`${file()}` needs a path, e.g. `${file(config.yml)}`")
        target = (self.ctx.base_dir / name).resolve()
        if target.suffix.lower() not in FILE_SUFFIXES:
            raise self.locator.error(
                path, f"`${{file({name})}}`: only YAML and JSON files can be read",
                "use a .yml, .yaml or .json file",
            )
        if not target.is_file():
            return MISSING  # a fallback may follow (`${file(./prod.yml):x, 'y'}`)
        if target in self._files:
            raise self.locator.error(path, f"`${{file({name})}}` includes itself")
        try:
            content = load_document(target).data
        except ConfigError as exc:
            raise self.locator.error(path, f"`${{file({name})}}`: {exc}") from None
        self._files.append(target)
        try:
            content = self._detached(content, path)
        finally:
            self._files.pop()
        for part in [p for p in address.split(".") if p] if address else []:
            if isinstance(content, dict) and part in content:
                content = content[part]
            elif isinstance(content, list) and part.isdigit() and int(part) < len(content):
                content = content[int(part)]
            else:
                return MISSING
        return content

    # -- errors --------------------------------------------------------------

    def _unknown_source(self, text: str, path: KeyPath) -> ConfigError:
        m = _REF.match(text)
        plugin = PLUGIN_SOURCES.get(m.group("source")) if m else None
        if plugin is not None:
            fix = ("list serverless-lift under `plugins:` (its constructs become aloft queues, "
                   "buckets and tables)" if plugin == "serverless-lift"
                   else "replace it with a value, `${env:...}` or `${file(...)}`")
            return self.locator.error(
                path, f"`${{{text}}}` is a variable of {plugin}, which this project does not "
                "use", fix)
        forms = {"stage": "${stage}", "file": "${file(path):key}",
                 "strToBool": "${strToBool(value)}", "split": "${split(text, delimiter)}"}
        known = ", ".join(forms.get(s, f"${{{s}:...}}") for s in sorted(self.ctx.sources))
        return self.locator.error(
            path, f"`${{{text}}}` is not a known variable", f"use one of {known}"
        )

    def _missing(self, text: str, path: KeyPath) -> ConfigError:
        m = _REF.match(text)
        assert m is not None
        source, address = m.group("source"), (m.group("address") or "").strip()
        if source == "env":
            return self.locator.error(
                path, f"environment variable {address} is not set (`${{{text}}}`)",
                f"set it (export {address}=...) or give a default: `${{env:{address}, default}}`",
            )
        if source == "self":
            return self.locator.error(
                path, f"`${{{text}}}` refers to `{address}`, which is not set",
                "check the key path (keys separated by dots, list items by their index)",
            )
        if source == "opt":
            if address == "region":
                return self.locator.error(
                    path, f"no region option was given (`${{{text}}}`)",
                    "aloft takes the stage's region from the config: write `${aws:region}`, "
                    "or give a fallback: `${opt:region, self:provider.region}`",
                )
            return self.locator.error(
                path, f"aloft has no --{address} option (`${{{text}}}`)",
                f"give a default: `${{opt:{address}, 'value'}}`",
            )
        if source == "param":
            return self.locator.error(
                path, f"parameter {address!r} is not set for stage {self.ctx.stage!r}",
                f"set it under `params.{self.ctx.stage}` or `params.default`",
            )
        if source == "file":
            name = (m.group("arg") or "").strip().strip("'\"")
            target = (self.ctx.base_dir / name).resolve()
            if name and not target.is_file():
                return self.locator.error(
                    path, f"`${{{text}}}`: {target} does not exist",
                    "paths are relative to the config file's directory (or give a fallback: "
                    "`${file(x.yml):key, 'value'}`)",
                )
            return self.locator.error(
                path, f"`${{{text}}}`: the file has no key `{address}`", "check the key path"
            )
        return self.locator.error(path, f"`${{{text}}}` has no value")
