"""A stage's declared resources with their physical names and ARNs, and the variables through
which functions find them (`ALOFT_<KIND>_<NAME>`, docs/aws.md and docs/local-cloud.md). Pure."""

from __future__ import annotations

import json

from aloft.config.models import QueueResource, Service
from aloft.errors import ConfigError, Location
from aloft.stage import records as r
from aloft.stage.names import StageNames, env_key


def resources(service: Service, names: StageNames) -> r.Resources:
    res = service.resources
    return r.Resources(
        buckets=tuple(r.Bucket(k, (n := names.bucket(k, b.name)), names.bucket_arn(n),
                               b.public, b.versioning) for k, b in res.buckets.items()),
        queues=tuple(q for k, decl in res.queues.items()
                     for q in _queues(service, names, k, decl)),
        topics=tuple(r.Topic(k, (n := names.topic(k, t.name)), names.topic_arn(n))
                     for k, t in res.topics.items()),
        tables=tuple(
            r.Table(k, (n := names.table(k, t.name)), names.table_arn(n), t.hash_key,
                    t.hash_type, t.range_key, t.range_type,
                    "NEW_AND_OLD_IMAGES" if t.stream is True else (t.stream or None), t.ttl)
            for k, t in res.tables.items()),
        parameters=tuple(
            r.Parameter(k, (n := names.parameter(k, p.name)), names.parameter_arn(n), p.value,
                        p.secure, p.description or "")
            for k, p in res.parameters.items()),
    )


def _queues(service: Service, names: StageNames, key: str,
            q: QueueResource) -> list[r.Queue]:
    """The queue, and before it the dead-letter queue `dead_letter: true` creates."""
    name = names.queue(key, q.name, q.fifo)
    out: list[r.Queue] = []
    dlq: str | None = None
    if q.dead_letter is True:
        dlq = names.dead_letter_queue(name, q.fifo)
        out.append(r.Queue(f"{key}-dlq", dlq, names.queue_arn(dlq), names.queue_url(dlq),
                           q.visibility_timeout, 1209600, fifo=q.fifo, declared=False))
    elif isinstance(q.dead_letter, str) and q.dead_letter:
        other = service.resources.queues.get(q.dead_letter)
        if other is None:
            raise ConfigError(
                f"queue {key!r} names the dead-letter queue {q.dead_letter!r}, which is not "
                "declared",
                where=Location(file=str(service.config_file) if service.config_file else None,
                               key_path=f"resources.queues.{key}.dead_letter",
                               stage=service.stage),
                fix="declare it under resources.queues, or use `dead_letter: true`; queues: "
                    f"{', '.join(service.resources.queues)}",
            )
        dlq = names.queue(q.dead_letter, other.name, other.fifo)
    out.append(r.Queue(key, name, names.queue_arn(name), names.queue_url(name),
                       q.visibility_timeout, q.retention, dlq, q.max_receives, q.fifo))
    return out


def environment(declared: r.Resources) -> dict[str, str]:
    """ALOFT_BUCKET_<K>, ALOFT_QUEUE_<K>_URL/_ARN, ALOFT_TOPIC_<K>_ARN, ALOFT_TABLE_<K>,
    ALOFT_PARAMETER_<K>: how functions find the stage's resources (a `dead_letter: true` queue
    is not declared, so it has none)."""
    env: dict[str, str] = {}
    for b in declared.buckets:
        env[f"ALOFT_BUCKET_{env_key(b.key)}"] = b.name
    for q in declared.queues:
        if not q.declared:
            continue
        env[f"ALOFT_QUEUE_{env_key(q.key)}_URL"] = q.url
        env[f"ALOFT_QUEUE_{env_key(q.key)}_ARN"] = q.arn
    for t in declared.topics:
        env[f"ALOFT_TOPIC_{env_key(t.key)}_ARN"] = t.arn
    for tb in declared.tables:
        env[f"ALOFT_TABLE_{env_key(tb.key)}"] = tb.name
    for p in declared.parameters:
        env[f"ALOFT_PARAMETER_{env_key(p.key)}"] = p.name
    return env


PUBLIC_READ_SID = "PublicRead"


def public_read_policy(bucket_arn: str) -> str:
    """The bucket policy of a `public: true` bucket, on both providers: anyone may read its
    objects (`s3:GetObject`), nothing else (no listing, no writes)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": PUBLIC_READ_SID, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*"}]}, sort_keys=True)


def is_public_read(policy: str | None) -> bool:
    """Whether a bucket's policy has the statement `public_read_policy` writes."""
    try:
        doc = json.loads(policy or "{}")
    except ValueError:
        return False
    return any(isinstance(st, dict) and st.get("Sid") == PUBLIC_READ_SID
               and st.get("Effect") == "Allow" for st in doc.get("Statement", ()))
