"""The config's CloudFormation values (aloft.config.intrinsics) resolved against the stage. Pure.

`!Ref Jobs` is the queue's URL, `!GetAtt Jobs.Arn` its ARN, `!Sub '${AWS::Region}'` the
account's region: what a logical id stands for comes from aloft.config.cfn_references, its value
from the stage's names. What only exists once the stage is deployed (a table's stream ARN, the
API's id, another stack's export) becomes a placeholder (aloft.stage.late) that the provider
fills when it applies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aloft.config.cfn_references import Target, logical_ids
from aloft.config.cfn_resolve import NO_VALUE, Unresolved, resolve
from aloft.config.intrinsics import Intrinsic, describe
from aloft.config.models import Service
from aloft.errors import ConfigError, Location
from aloft.stage import late as lt
from aloft.stage.names import StageNames

Written = str | Intrinsic


def location(service: Service, key_path: str, function: str | None = None) -> Location:
    """Where in the config a value of the stage was written (for errors)."""
    return Location(file=str(service.config_file) if service.config_file else None,
                    key_path=key_path, function=function, stage=service.stage)


class _Exports(Mapping[str, str]):
    """Every export is known: as a placeholder the provider fills (or refuses) at apply."""

    def __getitem__(self, name: str) -> str:
        return lt.late(lt.EXPORT, name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class Values:
    """Resolves the service's CloudFormation values to text (`text`, `texts`)."""

    def __init__(self, service: Service, names: StageNames) -> None:
        self.service = service
        self.names = names
        self.targets = logical_ids(service)

    def where(self, key_path: str, function: str | None = None) -> Location:
        return location(self.service, key_path, function)

    def value(self, written: Written, key_path: str, function: str | None = None) -> Any:
        """The plain value: text, a list (Fn::Split) or cfn_resolve.NO_VALUE."""
        if isinstance(written, str):
            return written
        try:
            return resolve(written, self.lookup, conditions=self.service.conditions,
                           exports=_Exports())
        except Unresolved as exc:
            raise ConfigError(
                f"`{describe(written)}` cannot be resolved: {exc}",
                where=self.where(key_path, function),
                fix="refer to a resource of this service by its key, a function by its "
                    "logical id, or write the value itself",
            ) from None

    def text(self, written: Written, key_path: str, function: str | None = None) -> str | None:
        """The value as text; None for `!Ref AWS::NoValue` (the key is left out)."""
        value = self.value(written, key_path, function)
        if value is NO_VALUE:
            return None
        if isinstance(value, list):
            raise ConfigError(
                f"`{describe(written)}` is a list, and {key_path} takes text",
                where=self.where(key_path, function),
                fix="pick one item with `Fn::Select`, or join them with `Fn::Join`",
            )
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def texts(self, written: list[Written], key_path: str,
              function: str | None = None) -> list[str]:
        """A list of values (a statement's resources), `AWS::NoValue` and lists flattened."""
        out: list[str] = []
        for i, item in enumerate(written):
            value = self.value(item, f"{key_path}[{i}]", function)
            items = value if isinstance(value, list) else [value]
            out.extend(str(v) for v in items if v is not NO_VALUE)
        return out

    # -- what a logical id stands for --------------------------------------------------------

    def lookup(self, name: str, attribute: str | None) -> Any:
        target = self.targets[name]  # KeyError: Unresolved, named by the resolver
        found = _KINDS[target.kind](self, target, attribute)
        if found is None:
            raise KeyError(name)
        return found

    def _pseudo(self, target: Target, attribute: str | None) -> str | None:
        acct = self.names.account
        return {
            "AWS::Region": acct.region, "AWS::AccountId": acct.account_id,
            "AWS::Partition": acct.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if acct.partition == "aws-cn"
            else "amazonaws.com",
            "AWS::StackName": self.names.prefix,
            "AWS::StackId": acct.arn("cloudformation", f"stack/{self.names.prefix}/aloft"),
        }.get(target.key)

    def _queue(self, target: Target, attribute: str | None) -> str | None:
        res = self.service.resources.queues
        if target.key in res:
            q = res[target.key]
            name = self.names.queue(target.key, q.name, q.fifo)
        else:  # `{key}-dlq`, created by `dead_letter: true`
            source = target.key.removesuffix("-dlq")
            q = res[source]
            name = self.names.dead_letter_queue(self.names.queue(source, q.name, q.fifo), q.fifo)
        return {None: self.names.queue_url(name), "QueueUrl": self.names.queue_url(name),
                "Arn": self.names.queue_arn(name), "QueueName": name}.get(attribute)

    def _topic(self, target: Target, attribute: str | None) -> str | None:
        name = self.names.topic(target.key, self.service.resources.topics[target.key].name)
        arn = self.names.topic_arn(name)
        return {None: arn, "TopicArn": arn, "TopicName": name}.get(attribute)

    def _bucket(self, target: Target, attribute: str | None) -> str | None:
        name = self.names.bucket(target.key, self.service.resources.buckets[target.key].name)
        acct = self.names.account
        # the local cloud's buckets answer at its endpoint, path-style
        website = (f"{acct.endpoint}/{name}" if acct.endpoint
                   else f"http://{name}.s3-website-{acct.region}.amazonaws.com")
        return {None: name, "Arn": self.names.bucket_arn(name),
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{acct.region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{acct.region}.amazonaws.com",
                "WebsiteURL": website}.get(attribute)

    def _table(self, target: Target, attribute: str | None) -> str | None:
        name = self.names.table(target.key, self.service.resources.tables[target.key].name)
        return {None: name, "Arn": self.names.table_arn(name),
                "StreamArn": lt.late(lt.STREAM, name)}.get(attribute)

    def _parameter(self, target: Target, attribute: str | None) -> str | None:
        p = self.service.resources.parameters[target.key]
        return {None: self.names.parameter(target.key, p.name),
                "Type": "SecureString" if p.secure else "String",
                "Value": p.value}.get(attribute)

    def _function(self, target: Target, attribute: str | None) -> str | None:
        return {None: self.names.function(target.key),
                "Arn": self.names.function_arn(target.key)}.get(attribute)

    def _api(self, target: Target, attribute: str | None) -> str | None:
        return {None: lt.late(lt.API), "ApiId": lt.late(lt.API),
                "ApiEndpoint": lt.late(lt.API_URL),
                "RootResourceId": lt.late(lt.API_ROOT)}.get(attribute)

    def _role(self, target: Target, attribute: str | None) -> str | None:
        return {None: self.names.role_name, "Arn": self.names.role_arn,
                "RoleId": lt.late(lt.ROLE_ID)}.get(attribute)

    def _deployment_bucket(self, target: Target, attribute: str | None) -> str | None:
        bucket = lt.late(lt.DEPLOYMENT_BUCKET)
        return {None: bucket, "Arn": f"arn:{self.names.account.partition}:s3:::{bucket}",
                "DomainName": f"{bucket}.s3.amazonaws.com",
                "RegionalDomainName": f"{bucket}.s3.{self.names.account.region}.amazonaws.com",
                }.get(attribute)


_KINDS = {
    "pseudo": Values._pseudo, "queues": Values._queue, "topics": Values._topic,
    "buckets": Values._bucket, "tables": Values._table, "parameters": Values._parameter,
    "function": Values._function, "api": Values._api, "role": Values._role,
    "deployment_bucket": Values._deployment_bucket,
}
