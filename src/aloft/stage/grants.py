"""What each function of a stage may do: the one list of grants that the aws role policy
(aloft.aws.policy) and the local endpoint's checks (aloft.local.services.auth) both state. Pure.

A function may write its log group, invoke its `@aloft.task` target (when the code uses tasks)
and its async destinations, use the resources the stage declares, read its own queue and
stream event sources, read the stage's parameters and its own `secrets` (`ssm:GetParameter*`,
and `kms:Decrypt` of the stage's key, by its ARN, through SSM only), and do what the service's
and its own `permissions` statements add. Nothing else.
"""

from __future__ import annotations

from aloft.config.models import Service, Statement
from aloft.stage import late as lt
from aloft.stage import records as r
from aloft.stage.names import StageNames
from aloft.stage.values import Values

CONSUMED_QUEUE_ACTIONS = (
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)
STREAM_ACTIONS = (
    "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
    "dynamodb:ListStreams", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards",
    "kinesis:ListStreams", "kinesis:SubscribeToShard",
)
PARAMETER_ACTIONS = ("ssm:GetParameter*",)
SECRET_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
USER = "User"
"""The sid of a `permissions` statement (the aws role policy numbers them)."""


def _grant(sid: str, actions: tuple[str, ...], resources: list[str],
           conditions: tuple[r.Condition, ...] = ()) -> r.Grant:
    return r.Grant(sid, actions, tuple(dict.fromkeys(resources)), conditions=conditions)


def log_grant(names: StageNames, function: str) -> r.Grant:
    arn = names.account.arn("logs", f"log-group:{names.log_group(function)}:*")
    return _grant("Logs", ("logs:CreateLogStream", "logs:PutLogEvents"), [arn])


def declared_resource_grants(declared: r.Resources) -> list[r.Grant]:
    """The declared buckets (and their objects), queues, topics and tables (and indexes)."""
    out: list[r.Grant] = []
    if declared.buckets:
        arns = [b.arn for b in declared.buckets]
        out.append(_grant("Buckets", ("s3:ListBucket",), arns))
        out.append(_grant("Objects", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                          [a + "/*" for a in arns]))
    queues = [q.arn for q in declared.queues if q.declared]
    if queues:
        out.append(_grant("Queues", ("sqs:SendMessage", "sqs:ReceiveMessage",
                                     "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                     "sqs:GetQueueAttributes", "sqs:GetQueueUrl"), queues))
    if declared.topics:
        out.append(_grant("Topics", ("sns:Publish",), [t.arn for t in declared.topics]))
    if declared.tables:
        arns = [t.arn for t in declared.tables]
        out.append(_grant("Tables", ("dynamodb:GetItem", "dynamodb:PutItem",
                                     "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                     "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
                                     "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"),
                          arns + [a + "/index/*" for a in arns]))
    return out


def stream_grant_arn(names: StageNames, arn: str) -> str:
    """What a stream grant names: every stream of a DynamoDB table (its ARN changes when the
    stream is turned off and on), a Kinesis stream's ARN as it is."""
    late = lt.refs(arn)
    if late and lt.split(late[0])[0] == lt.STREAM:
        return names.table_arn(lt.split(late[0])[1]) + "/stream/*"
    if ":dynamodb:" in arn and "/stream/" in arn:
        return arn.split("/stream/", 1)[0] + "/stream/*"
    return arn


def source_grants(names: StageNames, bindings: list[r.Binding]) -> list[r.Grant]:
    """Reading a function's own queue and stream event sources."""
    out: list[r.Grant] = []
    queues = [b.arn for b in bindings if b.kind == "queue"]
    streams = [stream_grant_arn(names, b.arn) for b in bindings if b.kind == "stream"]
    if streams:
        out.append(_grant("Streams", STREAM_ACTIONS, streams))
    if queues:
        out.append(_grant("ConsumedQueues", CONSUMED_QUEUE_ACTIONS, queues))
    return out


def secret_grants(service: Service, names: StageNames, declared: r.Resources,
                  secrets: list[str]) -> list[r.Grant]:
    """The stage's parameters and the function's `secrets` (a declared parameter's key, a path,
    a name `aloft secret set` stored, or an ARN), and the stage key that decrypts them: by its
    ARN (`${secret_key}`, known once the key exists), through SSM only. A stage whose
    parameters are all plain text and whose functions have no `secrets` needs no key."""
    params = [p.arn for p in declared.parameters]
    managed: list[str] = []
    for secret in secrets:
        if secret.startswith("arn:"):
            params.append(secret)
            continue
        decl = service.resources.parameters.get(secret)
        path = names.parameter(secret, decl.name) if decl else names.secret_parameter(secret)
        params.append(names.parameter_arn(path))
        # a Secrets Manager secret of the same name: `/shop/dev/TOKEN` as the parameter is
        # named (its ARN keeps the slash), or `shop/dev/TOKEN`, the name without it
        for name in dict.fromkeys((path, path.lstrip("/"))):
            managed.append(names.account.arn("secretsmanager", f"secret:{name}*"))
    if not params:
        return []
    acct = names.account
    out = [_grant("Parameters", PARAMETER_ACTIONS, params)]
    if managed:
        out.append(_grant("Secrets", SECRET_ACTIONS, managed))
    if secrets or any(needs_stage_key(p) for p in declared.parameters):
        out.append(_grant("Decrypt", ("kms:Decrypt",), [lt.late(lt.SECRET_KEY)], (
            r.Condition("StringEquals", "kms:ViaService",
                        (f"ssm.{acct.region}.amazonaws.com",)),)))
    return out


def needs_stage_key(p: r.Parameter) -> bool:
    """A declared parameter encrypted with the stage key: a secure one, or one whose value is
    set elsewhere (`aloft secret set` stores SecureStrings)."""
    return p.secure or p.value is None


def invoke_grants(tasks: str | None, settings: r.AsyncSettings,
                  dead_letter: str | None) -> list[r.Grant]:
    """Invoking the `@aloft.task` target (`tasks`: its ARN, when the code uses tasks), and
    sending to the async destinations and the dead-letter target."""
    out: list[r.Grant] = []
    if tasks is not None:
        out.append(_grant("Tasks", ("lambda:InvokeFunction",), [tasks, tasks + ":*"]))
    targets = [t for t in (settings.on_success, settings.on_failure) if t]
    out += [_grant(f"Destinations{_word(action)}", (action,), arns)
            for action, arns in _by_action(targets).items()]
    if dead_letter:
        out += [_grant(f"DeadLetter{_word(action)}", (action,), arns)
                for action, arns in _by_action([dead_letter]).items()]
    return out


def _word(action: str) -> str:
    """`sqs:SendMessage` -> `Sqs`: statement ids stay unique in one policy."""
    return action.split(":", 1)[0].capitalize()


_SEND = {"lambda": "lambda:InvokeFunction", "sqs": "sqs:SendMessage", "sns": "sns:Publish",
         "events": "events:PutEvents"}


def _by_action(arns: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for arn in arns:
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        out.setdefault(_SEND.get(service, "lambda:InvokeFunction"), []).append(arn)
    return out


def user_grants(values: Values, function: str, written: list[tuple[str, Statement]]
                ) -> list[r.Grant]:
    """The `permissions` statements, their CloudFormation values resolved (`written`: where
    each was written, and the statement)."""
    out: list[r.Grant] = []
    for where, st in written:
        resources = [_policy_arn(values.names, arn)
                     for arn in values.texts(list(st.resource), f"{where}.resource", function)]
        out.append(r.Grant(USER, tuple(st.action), tuple(resources), st.effect))
    return out


def _policy_arn(names: StageNames, arn: str) -> str:
    """A policy names what exists when it is written: a table's stream by the table."""
    return stream_grant_arn(names, arn) if lt.STREAM in arn else arn
