"""Apply steps for triggers: EventBridge rules, event source mappings, SNS, S3."""

from __future__ import annotations

import json
from typing import Any

from aloft.aws import albs
from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_base import ApplyContext, Undo, aws_tags
from aloft.aws.plan import fill


class TriggerSteps(ApplyContext):
    """What invokes the stage aliases besides the API."""

    def _do_PutRule(self, x: st.PutRule) -> Undo:
        r = x.spec
        bus = {"EventBusName": r.bus} if r.bus else {}
        params: dict[str, Any] = {"Name": r.name, "State": "ENABLED" if r.enabled else "DISABLED",
                                  "Description": r.description, **bus}
        if r.pattern is not None:
            params["EventPattern"] = r.pattern
        else:
            params["ScheduleExpression"] = r.expression
        if not x.exists:
            params["Tags"] = aws_tags(x.tags)
        self.aws.call("events", "put_rule", **params)
        target: dict[str, Any] = {"Id": "aloft", "Arn": x.target_arn}
        if r.input is not None:
            target["Input"] = r.input
        elif r.input_path is not None:
            target["InputPath"] = r.input_path
        self.aws.call("events", "put_targets", Rule=r.name, Targets=[target], **bus)
        return [] if x.exists else [st.DeleteRule(r.name, r.bus)]

    def _do_DeleteRule(self, x: st.DeleteRule) -> Undo:
        bus = {"EventBusName": x.bus} if x.bus else {}
        targets = self.aws.find("events", "list_targets_by_rule", Rule=x.name, **bus)
        if targets is None:
            return []
        ids = [t["Id"] for t in targets.get("Targets", [])]
        if ids:
            self.aws.call("events", "remove_targets", Rule=x.name, Ids=ids, **bus)
        self._ignore_missing("events", "delete_rule", Name=x.name, **bus)
        return []

    def _mapping_params(self, m: s.MappingSpec) -> dict[str, Any]:
        params: dict[str, Any] = {"BatchSize": m.batch_size, "Enabled": m.enabled,
                                  "FunctionResponseTypes":
                                      ["ReportBatchItemFailures"] if m.partial_failures else []}
        if m.window:
            params["MaximumBatchingWindowInSeconds"] = m.window
        return params

    def _do_CreateEventSourceMapping(self, x: st.CreateEventSourceMapping) -> Undo:
        m = fill(x.spec, self.refs)
        params = self._mapping_params(m)
        if m.starting_position:
            params["StartingPosition"] = m.starting_position
        got = self.aws.call("lambda", "create_event_source_mapping", EventSourceArn=m.source_arn,
                            FunctionName=x.alias_arn, **params)
        return [st.DeleteEventSourceMapping(str(got["UUID"]))]

    def _do_UpdateEventSourceMapping(self, x: st.UpdateEventSourceMapping) -> Undo:
        self.aws.call("lambda", "update_event_source_mapping", UUID=x.uuid,
                      **self._mapping_params(x.spec))
        return []

    def _do_DeleteEventSourceMapping(self, x: st.DeleteEventSourceMapping) -> Undo:
        self._ignore_missing("lambda", "delete_event_source_mapping", UUID=x.uuid)
        return []

    def _do_Subscribe(self, x: st.Subscribe) -> Undo:
        attrs = {"FilterPolicy": x.spec.filter_policy} if x.spec.filter_policy else {}
        got = self.aws.call("sns", "subscribe", TopicArn=x.spec.topic_arn, Protocol="lambda",
                            Endpoint=x.alias_arn, Attributes=attrs, ReturnSubscriptionArn=True)
        return [st.Unsubscribe(str(got["SubscriptionArn"]))]

    def _do_SetSubscriptionFilter(self, x: st.SetSubscriptionFilter) -> Undo:
        self.aws.call("sns", "set_subscription_attributes", SubscriptionArn=x.arn,
                      AttributeName="FilterPolicy", AttributeValue=x.filter_policy or "{}")
        return []

    def _do_Unsubscribe(self, x: st.Unsubscribe) -> Undo:
        self._ignore_missing("sns", "unsubscribe", SubscriptionArn=x.arn)
        return []

    def _do_PutBucketNotifications(self, x: st.PutBucketNotifications) -> Undo:
        conf = self.aws.find("s3", "get_bucket_notification_configuration", Bucket=x.bucket)
        if conf is None:
            return []
        conf.pop("ResponseMetadata", None)
        ours = [c for c in conf.get("LambdaFunctionConfigurations", [])
                if not str(c.get("Id", "")).startswith(f"aloft-{self.stage_prefix}")]
        for i, (n, arn) in enumerate(x.configs):
            item: dict[str, Any] = {"Id": f"aloft-{self.stage_prefix}-{n.function}-{i}",
                                    "LambdaFunctionArn": arn, "Events": list(n.events)}
            rules = [{"Name": k, "Value": v} for k, v in (("prefix", n.prefix),
                                                          ("suffix", n.suffix)) if v]
            if rules:
                item["Filter"] = {"Key": {"FilterRules": rules}}
            ours.append(item)
        conf["LambdaFunctionConfigurations"] = ours
        self.aws.call("s3", "put_bucket_notification_configuration", Bucket=x.bucket,
                      NotificationConfiguration=conf)
        return []

    # -- `alb` events (aloft.aws.albs) --------------------------------------------------------

    def _do_CreateAlbTarget(self, x: st.CreateAlbTarget) -> Undo:
        a = x.spec
        tags = [*aws_tags(x.tags), {"Key": albs.SPEC_TAG, "Value": albs.fingerprint(a)},
                {"Key": albs.LISTENER_TAG, "Value": a.listener}]
        got = self.aws.call("elbv2", "create_target_group", Name=a.name, TargetType="lambda",
                            Tags=tags)
        arn = str(got["TargetGroups"][0]["TargetGroupArn"])
        self._multi_value(arn, a.multi_value_headers)
        self._register(arn, x.alias_arn)
        return [st.DeleteAlbTarget(a.name, arn, self._create_rule(a, arn))]

    def _do_UpdateAlbTarget(self, x: st.UpdateAlbTarget) -> Undo:
        """(A deploy that stopped half-way through CreateAlbTarget is completed here too.)"""
        a = x.spec
        self._multi_value(x.target_group, a.multi_value_headers)
        self._register(x.target_group, x.alias_arn)
        if x.rule is None:
            self._create_rule(a, x.target_group)
        else:
            self.aws.call("elbv2", "modify_rule", RuleArn=x.rule,
                          Conditions=json.loads(a.conditions))
        self.aws.call("elbv2", "add_tags", ResourceArns=[x.target_group],
                      Tags=[{"Key": albs.SPEC_TAG, "Value": albs.fingerprint(a)}])
        return []

    def _do_DeleteAlbTarget(self, x: st.DeleteAlbTarget) -> Undo:
        if x.rule is not None:
            self._ignore_missing("elbv2", "delete_rule", RuleArn=x.rule)
        self._ignore_missing("elbv2", "delete_target_group", TargetGroupArn=x.target_group)
        return []

    def _register(self, target_group: str, alias_arn: str) -> None:
        self.aws.call("elbv2", "register_targets", TargetGroupArn=target_group,
                      Targets=[{"Id": alias_arn}])

    def _multi_value(self, target_group: str, on: bool) -> None:
        self.aws.call("elbv2", "modify_target_group_attributes", TargetGroupArn=target_group,
                      Attributes=[{"Key": "lambda.multi_value_headers.enabled",
                                   "Value": "true" if on else "false"}])

    def _create_rule(self, a: s.AlbSpec, target_group: str) -> str:
        got = self.aws.call("elbv2", "create_rule", ListenerArn=a.listener, Priority=a.priority,
                            Conditions=json.loads(a.conditions),
                            Actions=[{"Type": "forward", "TargetGroupArn": target_group}])
        return str(got["Rules"][0]["RuleArn"])
