"""What the AWS tests of both tiers share: a stage that uses every AWS feature aloft deploys (the
planners and the template in tests/unit/aws, the deploy against moto in tests/aws), and the
CloudFormation linter's errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FULL: dict[str, Any] = {
    "app": "app:app",
    "keep_warm": True,
    "cors": True,
    "memory": 256,
    "environment": {"MODE": "prod"},
    "functions": {
        "worker": {
            "handler": "jobs.work",
            "timeout": 60,
            "concurrency": 5,
            "retries": 1,
            "max_event_age": 3600,
            "secrets": ["/shop/db-password"],
            "permissions": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}],
            "events": [
                {"queue": {"name": "jobs", "batch_size": 5, "window": 2}},
                {"schedule": {"rate": "5 minutes", "input": {"job": "tick"}}},
                {"topic": {"name": "alerts", "filter_policy": {"kind": ["urgent"]}}},
                {"bucket": {"name": "uploads", "prefix": "in/", "suffix": ".csv"}},
                {"stream": {"table": "items", "batch_size": 50}},
            ],
        },
        "hello": {"handler": "hello.handle", "events": [{"http": "GET /hello/{name}"}]},
    },
    "resources": {
        "queues": {"jobs": {"dead_letter": True, "max_receives": 4}},
        "topics": {"alerts": {}},
        "buckets": {"uploads": {}},
        "tables": {"items": {"stream": True}},
        "parameters": {"api-key": {"value": "s3cret", "secure": True}},
    },
}


def cfn_errors(text: str) -> list[str]:
    """cfn-lint's errors (not its warnings) for a template."""
    import cfnlint.api

    return [str(m) for m in cfnlint.api.lint(text, regions=["eu-west-1"])
            if m.rule.id.startswith("E")]


@dataclass(frozen=True)
class FakeArtifact:
    """An uploaded artifact where only its name and digest matter (templates, plans)."""

    path: Path = Path("code.zip")
    size: int = 1
    sha256: str = "c0de"


@dataclass(frozen=True)
class FakeBuild:
    """A build with a code artifact and no layer, for templates and desired states."""

    code: FakeArtifact = FakeArtifact()
    layer: FakeArtifact | None = None
    tasks: bool = True
