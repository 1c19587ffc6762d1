"""`aloft validate` shows what a stage reads but deployments do not apply, for every stage."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.unit.cli.cli_helpers import Run


def test_each_stages_own_warnings_are_shown_once(run: Run, tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(textwrap.dedent("""\
        service: shop
        provider:
          name: aws
          environment:
            QUEUE_URL: !Ref Jobs
        params:
          prod: {}
        functions:
          f:
            handler: h.f
            events:
              - alb:
                  listenerArn: ${param:listener, arn:aws:elasticloadbalancing:eu-west-1:1:l}
                  priority: 1
                  conditions: {path: /f}
        resources:
          Resources:
            Jobs: {Type: AWS::SQS::Queue}
        """))
    (tmp_path / "h.py").write_text("def f(event, context):\n    return 1\n")
    result = run("validate", "--all-stages")
    assert result.exit_code == 0, result.output
    assert "QUEUE_URL" not in result.stderr  # the stage model resolves it (aloft.stage)
    assert result.stderr.count("`functions.f.events[0]`: alb events are read, but") == 1
