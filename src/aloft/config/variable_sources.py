"""The variable sources besides the document itself: what each means, pure helpers for the
functions (`strToBool`, `split`), and the values only a deployed stage knows (deferred).

Deferred variables (`${ssm:...}`, `${cf:...}`, `${s3:...}`, `${aws:accountId}`) stay in the
resolved values as `${...}` text. On aws the provider reads them at deploy time; locally
`localize` gives `${aws:accountId}` the local cloud's account and refuses `cf:`/`s3:` (which
only exist on AWS) unless a fallback is written, saying exactly what is missing.
`${aws:region}` is resolved at once: on the local provider it is the local cloud's region
(LOCAL_REGION), as `${aws:accountId}` is its account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

LOCAL_ACCOUNT = "000000000000"
"""The account id of every ARN in the local cloud."""
LOCAL_REGION = "us-east-1"
"""The region of every ARN in the local cloud: on the local provider `${aws:region}` and
`AWS::Region` are this one, whatever region the config names for AWS (a stage of the local
cloud is not in that region, as it is not in the AWS account)."""
DEFAULT_REGION = "us-east-1"
"""The Serverless Framework's region when provider.region is not set."""

DEFERRED = frozenset({"ssm", "cf", "s3"})
"""Sources read at deploy time from the stage's AWS account (besides `aws:accountId`)."""

PLUGIN_SOURCES = {
    "construct": "serverless-lift",
    "git": "serverless-plugin-git-variables",
    "terraform": "the Serverless Framework v4 (Terraform state)",
    "vault": "the Serverless Framework v4 (HashiCorp Vault)",
    "doppler": "the Serverless Framework v4 (Doppler)",
}
"""Sources that come from a plugin (or a later Serverless Framework), named in the error."""

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def str_to_bool(text: str) -> bool:
    """`${strToBool(...)}`: true/1 and false/0 (any case), as the Serverless Framework."""
    value = text.strip().strip("'\"").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"strToBool takes true, false, 1 or 0, not {text.strip()!r}")


def split_arguments(arg: str) -> tuple[str, str]:
    """`${split(text, delimiter)}`: (text, delimiter), split at the last comma outside quotes;
    the delimiter may be quoted (`','`)."""
    quote, cut = "", -1
    for i, char in enumerate(arg):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == ",":
            cut = i
    if cut == -1:
        raise ValueError("split takes (text, delimiter), e.g. `${split(${env:HOSTS}, ',')}`")
    text, delimiter = arg[:cut].strip(), arg[cut + 1 :].strip()
    if len(delimiter) >= 2 and delimiter[0] == delimiter[-1] and delimiter[0] in "'\"":
        delimiter = delimiter[1:-1]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if not delimiter:
        raise ValueError("split needs a delimiter, e.g. `${split(a;b, ';')}`")
    return text, delimiter


_DEFERRED_TEXT = re.compile(r"\$\{(cf|s3|aws)(\([^)]*\))?:([^{}]*)\}")


def deferred_in(text: str) -> list[re.Match[str]]:
    """The `${cf:...}`, `${s3:...}` and `${aws:...}` variables left in a resolved value."""
    return list(_DEFERRED_TEXT.finditer(text))


def local_meaning(source: str, address: str) -> str:
    """Why a deferred variable has no value on the local cloud, and how to give it one."""
    if source == "cf":
        stack, _, output = address.partition(".")
        return (f"`${{cf:{address}}}` reads output {output or '?'} of CloudFormation stack "
                f"{stack or '?'}, which exists only on AWS")
    return (f"`${{s3:{address}}}` reads an object of an S3 bucket in your AWS account, which "
            "the local cloud does not have")


Fail = Callable[[tuple[str | int, ...], str, str], Exception]
"""(key path, message, fix) -> the error to raise."""


def localize(value: Any, fail: Fail, path: tuple[str | int, ...] = ()) -> Any:
    """`value` with deferred variables given their local meaning: `${aws:accountId}` is the
    local account; `${cf:...}` and `${s3:...}` take their fallback (`${cf:a.b, 'x'}`) or raise
    `fail(path, message, fix)`."""
    if isinstance(value, dict):
        return {k: localize(v, fail, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [localize(v, fail, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    out, pos = "", 0
    for m in deferred_in(value):
        source, address = m.group(1), m.group(3)
        first, _, fallback = address.partition(",")
        out += value[pos : m.start()]
        pos = m.end()
        if source == "aws":
            out += LOCAL_ACCOUNT if first.strip() == "accountId" else m.group(0)
            continue
        fallback = fallback.strip()
        if fallback:
            out += fallback[1:-1] if fallback[0] in "'\"" and fallback[-1] == fallback[0] \
                else fallback
            continue
        raise fail(path, local_meaning(source, first.strip()),
                   f"give a local value: `${{{source}:{first.strip()}, 'local value'}}`, "
                   "or deploy this stage with `provider: aws`")
    out += value[pos:]
    if out == value:
        return value
    return out
