"""Values only known once a stage exists: a table's stream ARN, the API's id, another stack's
export. The stage model writes them as `${kind:name}` placeholders inside its text; each provider
fills them when it applies (`fill`): the aws provider from what it reads or creates, the local
cloud from its own endpoint, the CloudFormation template as `Fn::GetAtt` / `Fn::ImportValue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

STREAM = "stream"  # ${stream:<table>}: a DynamoDB table's latest stream ARN
EXPORT = "export"  # ${export:<name>}: a CloudFormation export (`!ImportValue name`)
API = "api"  # ${api}: the id of the stage's HTTP or REST API
API_URL = "api_url"  # ${api_url}: the stage's API endpoint (https://... without the stage)
API_ROOT = "api_root"  # ${api_root}: a REST API's root resource id
ROLE_ID = "role_id"  # ${role_id}: the stage role's unique id
DEPLOYMENT_BUCKET = "deployment_bucket"  # ${deployment_bucket}: the provider's artifact bucket
SECRET_KEY = "secret_key"  # ${secret_key}: the ARN of the stage's KMS key (its secrets')
KINDS = (STREAM, EXPORT, API, API_URL, API_ROOT, ROLE_ID, DEPLOYMENT_BUCKET, SECRET_KEY)

_LATE = re.compile(r"\$\{((?:" + "|".join(KINDS) + r")(?::[^}]*)?)\}")


def late(kind: str, name: str | None = None) -> str:
    """The placeholder of a value known once deployed: late('stream', 't') -> '${stream:t}'."""
    return "${" + (kind if name is None else f"{kind}:{name}") + "}"


def refs(text: str) -> list[str]:
    """The placeholders in `text`, as `kind` or `kind:name`."""
    return _LATE.findall(text)


def is_late(text: str) -> bool:
    return bool(_LATE.search(text))


def fill(text: str, known: Mapping[str, str] | Callable[[str], str | None]) -> str:
    """`text` with every placeholder `known` answers replaced (the others stay)."""
    get = known.get if isinstance(known, Mapping) else known

    def one(m: re.Match[str]) -> str:
        value = get(m.group(1))
        return m.group(0) if value is None else value

    return _LATE.sub(one, text)


def split(ref: str) -> tuple[str, str]:
    """`stream:t` -> (`stream`, `t`); `api` -> (`api`, ``)."""
    kind, _, name = ref.partition(":")
    return kind, name
