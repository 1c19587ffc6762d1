"""A serverless.yml deployed to aws (against moto): every spelling of the region and account
(`!Ref AWS::Region`, `Fn::Sub`, `Fn::Join`, `${aws:region}`, `${aws:accountId}`) is the region
the functions are deployed in, provider.region, and the account of the credentials; in their
environment and in the role's statements."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from aloft.aws.provider import AwsProvider
from aloft.config import load_project
from tests.aws.conftest import REGION, boto
from tests.unit.config.test_serverless_region import SERVERLESS, expected


def test_every_spelling_is_the_region_deployed_to(provider: AwsProvider, tmp_path: Path) -> None:
    assert REGION == "eu-west-1"  # SERVERLESS's provider.region
    (tmp_path / "serverless.yml").write_text(textwrap.dedent(SERVERLESS))
    service = load_project(tmp_path, env={}).service(options={"provider": "aws"})
    provider.deploy(service)

    account = boto("sts").get_caller_identity()["Account"]
    conf = boto("lambda").get_function_configuration(FunctionName="orders-dev-probe")
    assert conf["FunctionArn"].split(":")[3] == REGION
    env = conf["Environment"]["Variables"]
    assert {k: env[k] for k in expected("", "")} == expected(REGION, account)

    role = conf["Role"].rsplit("/", 1)[-1]
    iam = boto("iam")
    resources: set[str] = set()
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for st in (json.loads(doc) if isinstance(doc, str) else doc)["Statement"]:
            found = st["Resource"]
            resources.update(found if isinstance(found, list) else [found])
    # the statements written with each spelling name the queues where the function runs
    for queue in ("orders-audit", "orders-billing", "orders-shipping"):
        assert f"arn:aws:sqs:{REGION}:{account}:{queue}" in resources, resources
