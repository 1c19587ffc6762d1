"""Apply steps for functions: code, configuration, versions, aliases, URLs, permissions."""

from __future__ import annotations

from typing import Any

from aloft.aws import health
from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_base import ApplyContext, Undo, cors_config
from aloft.aws.plan import fill


class FunctionSteps(ApplyContext):
    """Lambda functions and their stage aliases."""

    def _config_params(self, c: s.FunctionConfig) -> dict[str, Any]:
        c = fill(c, self.refs)
        return {"Role": c.role, "Handler": c.handler, "Runtime": c.runtime,
                "Description": c.description, "Timeout": c.timeout, "MemorySize": c.memory,
                "Environment": {"Variables": dict(c.environment)}, "Layers": list(c.layers),
                "TracingConfig": {"Mode": c.tracing},
                "VpcConfig": {"SubnetIds": list(c.subnet_ids),
                              "SecurityGroupIds": list(c.security_group_ids)},
                "DeadLetterConfig": {"TargetArn": c.dead_letter or ""},
                "EphemeralStorage": {"Size": c.ephemeral_storage},
                "LoggingConfig": s.logging_config(c), "SnapStart": s.snap_start(c)}

    def _do_CreateFunction(self, x: st.CreateFunction) -> Undo:
        f = x.spec
        self.aws.call("lambda", "create_function", FunctionName=f.physical,
                      Code={"S3Bucket": x.bucket, "S3Key": f.code_key},
                      Architectures=[f.architecture], Publish=False,
                      Tags=dict(x.tags), **self._config_params(f.config))
        self.aws.wait_function_ready(f.physical)
        return [st.DeleteFunction(f.physical)]

    def _do_UpdateFunctionCode(self, x: st.UpdateFunctionCode) -> Undo:
        self.aws.call("lambda", "update_function_code", FunctionName=x.function,
                      S3Bucket=x.bucket, S3Key=x.key, Architectures=[x.architecture])
        self.aws.wait_function_ready(x.function)
        return []

    def _do_UpdateFunctionConfiguration(self, x: st.UpdateFunctionConfiguration) -> Undo:
        self.aws.call("lambda", "update_function_configuration", FunctionName=x.function,
                      **self._config_params(x.config))
        self.aws.wait_function_ready(x.function)
        return []

    def _do_PublishVersion(self, x: st.PublishVersion) -> Undo:
        got = self.aws.call("lambda", "publish_version", FunctionName=x.physical)
        self.published[x.function] = str(got["Version"])
        if x.snap_start:  # the version serves once its snapshot is taken (init, hooks, save)
            self.aws.wait_function_ready(x.physical, qualifier=str(got["Version"]))
        return []

    def _do_HealthCheck(self, x: st.HealthCheck) -> Undo:
        checked = health.check(self.aws, x, self.published[x.function], self.stage)
        if checked.passed is not None:
            self.health.append(checked.passed)
        if checked.warning is not None:
            self.warnings.append(checked.warning)
        return []

    def _do_CreateAlias(self, x: st.CreateAlias) -> Undo:
        version = self.published[x.function]
        self.aws.call("lambda", "create_alias", FunctionName=x.physical, Name=x.alias,
                      FunctionVersion=version)
        self.versions[x.function] = version
        return []

    def _do_UpdateAlias(self, x: st.UpdateAlias) -> Undo:
        version = x.version or self.published[x.function]
        self.aws.call("lambda", "update_alias", FunctionName=x.physical, Name=x.alias,
                      FunctionVersion=version)
        self.versions[x.function] = version
        if x.previous:
            return [st.UpdateAlias(x.function, x.physical, x.alias, x.previous)]
        return []

    def _do_PutConcurrency(self, x: st.PutConcurrency) -> Undo:
        if x.reserved is None:
            self.aws.call("lambda", "delete_function_concurrency", FunctionName=x.function)
        else:
            self.aws.call("lambda", "put_function_concurrency", FunctionName=x.function,
                          ReservedConcurrentExecutions=x.reserved)
        return []

    def _do_PutProvisionedConcurrency(self, x: st.PutProvisionedConcurrency) -> Undo:
        if x.executions is None:
            self.aws.call("lambda", "delete_provisioned_concurrency_config",
                          FunctionName=x.function, Qualifier=x.alias)
        else:
            self.aws.call("lambda", "put_provisioned_concurrency_config", FunctionName=x.function,
                          Qualifier=x.alias, ProvisionedConcurrentExecutions=x.executions)
        return []

    def _do_PutEventInvokeConfig(self, x: st.PutEventInvokeConfig) -> Undo:
        params: dict[str, Any] = {
            "FunctionName": x.function, "Qualifier": x.alias,
            "MaximumRetryAttempts": x.config.retries,
            "MaximumEventAgeInSeconds": x.config.max_event_age}
        destinations = {key: {"Destination": arn} for key, arn in (
            ("OnFailure", x.config.on_failure), ("OnSuccess", x.config.on_success)) if arn}
        if destinations:
            params["DestinationConfig"] = destinations
        self.aws.call("lambda", "put_function_event_invoke_config", **params)
        return []

    def _do_PutFunctionUrl(self, x: st.PutFunctionUrl) -> Undo:
        params: dict[str, Any] = {"FunctionName": x.function, "Qualifier": x.alias,
                                  "AuthType": "NONE"}
        if x.cors:
            params["Cors"] = cors_config(x.cors, url=True)
        op = "update_function_url_config" if x.exists else "create_function_url_config"
        got = self.aws.call("lambda", op, **params)
        logical = next(n for n, p in self.physical.items() if p == x.function)
        self.refs[f"url:{logical}"] = str(got["FunctionUrl"])
        return [] if x.exists else [st.DeleteFunctionUrl(x.function, x.alias)]

    def _do_DeleteFunctionUrl(self, x: st.DeleteFunctionUrl) -> Undo:
        self._ignore_missing("lambda", "delete_function_url_config", FunctionName=x.function,
                             Qualifier=x.alias)
        return []

    def _do_AddPermission(self, x: st.AddPermission) -> Undo:
        p = fill(x.permission, self.refs)
        params: dict[str, Any] = {"FunctionName": x.physical, "Qualifier": x.alias,
                                  "StatementId": p.sid, "Action": p.action,
                                  "Principal": p.principal}
        if p.source_arn:
            params["SourceArn"] = p.source_arn
        if p.action == "lambda:InvokeFunctionUrl":
            params["FunctionUrlAuthType"] = "NONE"
        self.aws.call("lambda", "add_permission", **params)
        return [st.RemovePermission(p.sid, x.physical, x.alias)]

    def _do_RemovePermission(self, x: st.RemovePermission) -> Undo:
        self._ignore_missing("lambda", "remove_permission", FunctionName=x.physical,
                             Qualifier=x.alias, StatementId=x.sid)
        return []

    def _do_DeleteFunction(self, x: st.DeleteFunction) -> Undo:
        self._ignore_missing("lambda", "delete_function", FunctionName=x.function)
        return []
