"""`AwsProvider`: the aloft.provider.Provider protocol on AWS Lambda and API Gateway.

Each method is a thin sequence: connect, compute the desired state, read the actual one, plan,
apply. The planning and the AWS calls live in their own modules.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aloft.aws import specs as s
from aloft.aws import steps as st_
from aloft.aws.apply import Applier, ApplyResult
from aloft.aws.cdn import distribution_config, spec_hash
from aloft.aws.certify import certify, certify_cdn
from aloft.aws.client import AwsClient
from aloft.aws.dead_letters import FailureQueue
from aloft.aws.desired import Built, desired
from aloft.aws.errors import AwsNotFound
from aloft.aws.health import HealthCheckFailed, failure_error
from aloft.aws.names import Names
from aloft.aws.plan import describe, fill, plan_deploy, plan_static, plan_undeploy
from aloft.aws.plan_rollback import plan_rollback
from aloft.aws.record import Release
from aloft.aws.secrets import AwsSecrets
from aloft.aws.state import CDN_REF, ActualState, StateReader
from aloft.aws.state_auth import auth_status
from aloft.aws.template import template_json
from aloft.config.models import Service
from aloft.errors import (
    AloftError,
    DeployError,
    InvokeError,
    Location,
    NotDeployedError,
    UsageError,
)
from aloft.package.django_static import served
from aloft.provider import (
    Certified,
    DeadLetter,
    DeployResult,
    DeploySteps,
    InvokeOutput,
    LogLine,
    PlanStep,
    StageStatus,
    StaticPublished,
    phase,
    plan_step,
)
from aloft.stage import late as lt
from aloft.stage.names import StageNames, schedules_named

if TYPE_CHECKING:
    from aloft.package.manifest import Manifest

ClientFactory = Callable[[Service], AwsClient]
UPLOAD_STEPS = (st_.CreateDeploymentBucket, st_.UploadObject)
"""Plan steps that upload the artifact (the deploy's `upload` phase); the rest is `apply`."""
Builder = Callable[[Service], Built]


def _schedules(d: s.Desired) -> list[str]:
    """The schedule rules (not those of `eventbridge` events)."""
    return [r.name for r in d.rules if r.pattern is None]


def _check_exports(service: Service, st: Stage) -> None:
    """Every `!ImportValue` of the stage names an export of the account and region."""
    missing = sorted({lt.split(ref)[1] for ref in lt.refs(json.dumps(dataclasses.asdict(
        st.desired))) if lt.split(ref)[0] == lt.EXPORT and ref not in st.actual.refs})
    if missing:
        raise NotDeployedError(
            f"no stack of {st.names.account.region} exports {', '.join(missing)} "
            "(`!ImportValue`)", where=_where(service),
            fix="deploy the stack that exports it first, or check the export's name")


def _where(service: Service, function: str | None = None) -> Location:
    return Location(file=str(service.config_file) if service.config_file else None,
                    function=function, stage=service.stage)


def default_client(service: Service) -> AwsClient:
    return AwsClient(region=service.aws.region, profile=service.aws.profile,
                     where=_where(service))


def default_builder(service: Service) -> Built:
    from aloft.package import Target, build

    return build(service, target=Target.for_service(service))


@dataclass(frozen=True)
class _NoArtifact:
    """Stands for the artifact when only names matter (undeploy, status)."""

    path: Path = Path()
    size: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class _NoBuild:
    code: _NoArtifact = _NoArtifact()
    layer: _NoArtifact | None = None
    tasks: bool = True


@dataclass(frozen=True)
class Stage:
    """A connected stage: the client, its names, what it should be and what it is."""

    aws: AwsClient
    names: Names
    desired: s.Desired
    actual: ActualState


class AwsProvider:
    """Deploys a stage to AWS; also the capabilities `Certifies`, `Templates` and
    `DeadLetters`. Tests pass
    `client` (e.g. bound to moto) and `builder`."""

    def __init__(self, *, client: ClientFactory | None = None,
                 builder: Builder | None = None) -> None:
        self._client = client or default_client
        self._builder = builder or default_builder

    # -- connecting ---------------------------------------------------------------------

    def _resolve_ssm(self, service: Service, aws: AwsClient) -> Service:
        """The values read at deploy time (aloft.config.ssm): SSM parameters, other stacks'
        outputs, S3 objects and the account id."""
        from aloft.config.ssm import deferred_references, resolve_deferred

        if not deferred_references(service):
            return service

        def get(source: str, address: str) -> str | None:
            region, sep, rest = address.partition(":")
            if sep and source != "aws" and not region.startswith("/") and region != aws.region:
                raise DeployError(f"`${{{source}({region}):...}}` reads another region than the "
                                  f"stage's ({aws.region})", where=_where(service),
                                  fix="read it from the stage's region, or write the value")
            address = rest if sep and source != "aws" and not region.startswith("/") \
                else address
            if source == "aws":
                return aws.account.account_id
            if source == "ssm":
                got = aws.find("ssm", "get_parameter", Name=address, WithDecryption=True)
                return None if got is None else str(got["Parameter"]["Value"])
            if source == "cf":
                stack, _, output = address.partition(".")
                try:
                    found = aws.call("cloudformation", "describe_stacks", StackName=stack)
                except AloftError:
                    return None
                for item in found.get("Stacks", [{}])[0].get("Outputs", []):
                    if item.get("OutputKey") == output:
                        return str(item.get("OutputValue"))
                return None
            bucket, _, key = address.partition("/")
            obj = aws.find("s3", "get_object", Bucket=bucket, Key=key)
            return None if obj is None else obj["Body"].read().decode("utf-8")

        return resolve_deferred(service, get)

    def stage(self, service: Service, built: Built | None = None,
              aws: AwsClient | None = None, *, history: bool = False) -> Stage:
        aws = aws or self._client(service)
        names = Names.of(service, aws.account)
        want = desired(service, built or _NoBuild(), names)
        return Stage(aws, names, want, StateReader(aws, names, want, history=history).read())

    def _deployed(self, service: Service, *, history: bool = False) -> Stage:
        st = self.stage(service, history=history)
        if not st.actual.deployed:
            raise NotDeployedError(f"stage {service.stage!r} of {service.service!r} is not "
                                   "deployed on AWS", where=_where(service),
                                   fix=f"run `aloft deploy {service.stage}` first")
        return st

    # -- the Provider protocol ------------------------------------------------------------

    def deploy(
        self, service: Service, *, plan_only: bool = False, steps: DeploySteps | None = None,
        health_check: bool = True,
    ) -> DeployResult:
        lifecycle = steps
        aws = self._client(service)
        service = self._resolve_ssm(service, aws)
        built = lifecycle.build(service) if lifecycle is not None else self._builder(service)
        service = served(service, built)  # Django's static files, found at build
        st = self.stage(service, built, aws)
        _check_exports(service, st)
        steps_ = plan_deploy(st.desired, st.actual, health_check=health_check)
        return self._deploy(service, st, steps_, plan_only, lifecycle, health_check)

    def _deploy(self, service: Service, st: Stage, steps: list[st_.Step], plan_only: bool,
                lifecycle: DeploySteps | None, health_check: bool = True) -> DeployResult:
        if plan_only or (not steps and st.actual.deployed):
            # --plan, or nothing to change (no new version, no upload: the stage as it is)
            return self._as_is(st, _schedules(st.desired), _plan(steps), bool(steps))
        # Uploading the artifact is its own phase (plugins run between it and the changes).
        uploads: list[st_.Step] = [x for x in steps if isinstance(x, UPLOAD_STEPS)]
        changes = [x for x in steps if not isinstance(x, UPLOAD_STEPS)]
        applier = Applier(st.aws, st.desired, st.actual)  # a failed apply undoes uploads too
        with phase(lifecycle, "upload"):
            applier.run([x for x in uploads if not isinstance(x, st_.UploadObject)])
            st.aws.parallel(*(lambda x=x: applier.run([x]) for x in uploads
                              if isinstance(x, st_.UploadObject)))  # the code and the layer
        with phase(lifecycle, "apply"):
            try:
                result = applier.run(changes)
            except HealthCheckFailed as failed:  # nothing moved: the old versions serve
                raise failure_error(service, failed) from None
        with phase(lifecycle, "verify"):
            self._verify(service, st, result)
        release = result.release or st.actual.record.current
        return DeployResult(
            url=self._url(st.desired, result.refs, result.api),
            version=release.number if release else 0,
            functions={n: int(v) for n, v in result.versions.items()},
            schedules=_schedules(st.desired),
            plan=_plan(steps),
            health=result.health, unchecked=not health_check, warnings=result.warnings,
        )

    def _verify(self, service: Service, st: Stage, result: ApplyResult) -> None:
        """Each function's stage alias points at the version this deploy published."""
        deployed = {f.name for f in st.desired.functions}
        for name, version in result.versions.items():
            if name not in deployed:
                continue
            got = st.aws.call("lambda", "get_alias", FunctionName=st.names.function(name),
                              Name=service.stage)
            if str(got.get("FunctionVersion")) != str(version):
                raise DeployError(
                    f"the {service.stage} alias of {name} points at version "
                    f"{got.get('FunctionVersion')}, not {version}", where=_where(service, name),
                    fix="another deploy or rollback ran at the same time: check `aloft status`")

    def _url(self, d: s.Desired, refs: dict[str, str] | Any,
             api: tuple[str, str] | None) -> str | None:
        if d.cdn is not None and refs.get(CDN_REF):  # CloudFront in front of the API
            return f"https://{refs[CDN_REF]}/"
        if api is not None:
            host = f"{api[1]}.execute-api.{d.region}.amazonaws.com"
            return f"https://{host}/" if api[0] == "http" else f"https://{host}/{d.stage}/"
        for f in d.functions:
            if f"url:{f.name}" in refs:
                return str(refs[f"url:{f.name}"])
        return None

    def rollback(self, service: Service, steps: int = 1, *, to: int | None = None
                 ) -> DeployResult:
        st = self._deployed(service, history=True)  # also the rules older releases had
        releases = st.actual.record.releases
        if to is not None:
            target = _release(releases, to, service)
            if target is releases[-1]:  # the stage serves it: change nothing
                return self._unchanged(st)
        elif steps < 1 or steps >= len(releases):
            raise NotDeployedError(
                f"cannot roll back {steps} release(s): stage {service.stage!r} has "
                f"{len(releases)} release(s)", where=_where(service),
                fix=f"use a number between 1 and {max(len(releases) - 1, 1)}, or --to "
                    f"RELEASE (kept: {_numbers(releases)})")
        else:
            target = releases[-1 - steps]
        # The target's versions, API routes and schedule rules; a failure undoes what it can.
        steps_, notes = plan_rollback(st.desired, st.actual, target, time.time())
        if all(isinstance(x, st_.WriteState) for x in steps_):
            # The stage serves what the target served already (a rollback to release 1 that
            # release 3 repeats): record no release that repeats it again, change nothing.
            return self._unchanged(st)
        result = Applier(st.aws, st.desired, st.actual, "rollback").run(steps_)
        release = result.release or target
        api = st.actual.api
        rules = [x.name for x in st.actual.rules.values()] if target.rules is None else [
            r.name for r in target.rules if r.function in st.actual.functions]
        return DeployResult(url=self._url(st.desired, st.actual.refs,
                                          (api.kind, api.id) if api else None),
                            version=release.number, functions=_versions(release),
                            schedules=rules,
                            plan=_plan(steps_) + [as_plan_step({"op": "Note",
                                                              "resource": service.stage,
                                                              "note": n}) for n in notes])

    def _unchanged(self, st: Stage) -> DeployResult:
        """A rollback that changes nothing: the stage's current release, as it serves it."""
        return self._as_is(st, [x.name for x in st.actual.rules.values()])

    def _as_is(self, st: Stage, schedules: list[str], plan: list[PlanStep] | None = None,
               changed: bool = False) -> DeployResult:
        """The stage's current release as the result (`plan`: what --plan would change)."""
        current = st.actual.record.current
        api = st.actual.api
        return DeployResult(url=self._url(st.desired, st.actual.refs,
                                          (api.kind, api.id) if api else None),
                            version=current.number if current else 0,
                            functions=_versions(current), schedules=schedules,
                            plan=plan if plan is not None else [], changed=changed)

    def undeploy(self, service: Service) -> None:
        st = self.stage(service)
        if not st.actual.deployed and not st.actual.bucket_exists:
            raise NotDeployedError(f"stage {service.stage!r} of {service.service!r} is not "
                                   "deployed on AWS", where=_where(service),
                                   fix="nothing to undeploy")
        Applier(st.aws, st.desired, st.actual, "undeploy").run(
            plan_undeploy(st.desired, st.actual))

    def certify(self, service: Service, *, timeout: float = 600.0) -> Certified:
        """Give the deployed stage's API its custom domain `aws.domain` (`aloft certify`)."""
        st = self._deployed(service)
        if st.desired.cdn is not None:
            return self._certify_cdn(service, st, timeout)
        api = st.actual.api
        kind = service.aws.api
        if api is None and kind != "url":
            raise NotDeployedError("the stage has no API to map a domain to",
                                   where=_where(service),
                                   fix="add an `http` event or an `app`, then deploy")
        return certify(st.aws, service, api=(api.kind, api.id) if api else ("url", ""),
                       timeout=timeout)

    def publish_static(self, service: Service) -> StaticPublished:
        """Upload what changed in the stage's `static:` directory to its bucket."""
        st = self._deployed(service)
        steps = plan_static(st.desired, st.actual)
        sp = st.desired.static
        if sp is None or any(isinstance(x, st_.CreateStaticBucket) for x in steps):
            raise NotDeployedError(
                f"stage {service.stage!r} has no static bucket yet", where=_where(service),
                fix=f"run `aloft deploy {service.stage}`: it creates the bucket and uploads "
                    "the files")
        Applier(st.aws, st.desired, st.actual).run(steps)
        sync = [x for x in steps if isinstance(x, st_.SyncStatic)]
        api = st.actual.api
        url = self._url(st.desired, st.actual.refs, (api.kind, api.id) if api else None)
        return StaticPublished(
            url=(url or "/").rstrip("/") + sp.path + "/", where=f"bucket {sp.bucket}",
            uploaded=sum(len(x.upload) for x in sync), deleted=sum(len(x.delete) for x in sync))

    def _certify_cdn(self, service: Service, st: Stage, timeout: float) -> Certified:
        """The custom domain on the CloudFront distribution; the state records its
        certificate (a later deploy keeps the domain)."""
        have, spec = st.actual.record.cdn, st.desired.cdn
        if have is None or spec is None:
            raise NotDeployedError("the stage's CloudFront distribution is not deployed yet",
                                   where=_where(service),
                                   fix=f"run `aloft deploy {service.stage}` first")
        spec = fill(spec, st.actual.refs)
        east = self._client(service.model_copy(update={"aws": service.aws.model_copy(
            update={"region": "us-east-1"})}))
        done = certify_cdn(st.aws, east, service, distribution=have["id"], timeout=timeout,
                           config=lambda arn: distribution_config(spec, have.get("oac"), arn))
        record = dataclasses.replace(st.actual.record, cdn={
            **have, "certificate": done.certificate_arn,
            "hash": spec_hash(spec, done.certificate_arn)})
        st.aws.call("s3", "put_object", Bucket=st.desired.bucket, Key=st.desired.state_key,
                    Body=record.to_json().encode(), ContentType="application/json")
        return done

    def template(self, service: Service, manifest: Manifest | None) -> str:
        """The stage as a CloudFormation template (`aloft template`)."""
        return template_json(service if manifest is None else served(service, manifest),
                             manifest)

    def status(self, service: Service) -> StageStatus:
        st = self._deployed(service)
        a = st.actual
        current = a.record.current
        url = self._url(st.desired, a.refs, (a.api.kind, a.api.id) if a.api else None)
        return StageStatus(url=url, version=current.number if current else 0, report={
            "provider": "aws",
            "service": service.service,
            "stage": service.stage,
            "region": st.aws.region,
            "url": url,
            "release": current.number if current else 0,
            "deployed_at": current.time if current else None,
            # what `rollback --to RELEASE` goes back to (a rollback records a release too);
            # the last ten, as many as the local cloud keeps
            "releases": [{"release": r.number, "deployed": r.time, "current": r is current,
                          "functions": _versions(r)} for r in a.record.releases[-10:]],
            "functions": {
                n: {"name": f.physical, "version": f.alias_version, "memory": f.config.memory,
                    "timeout": f.config.timeout, "runtime": f.config.runtime,
                    "concurrency": f.concurrency,
                    **({"url": a.refs[f"url:{n}"]} if f"url:{n}" in a.refs else {})}
                for n, f in a.functions.items()},
            "schedules": {r.name: ("enabled" if r.enabled else "disabled")
                          for r in a.rules.values()},
            "api": {"kind": a.api.kind, "id": a.api.id,
                    "routes": [r.key for r in a.api.routes],
                    **auth_status(a.api.authorizers, a.usage_plan)} if a.api else None,
            "resources": {
                "buckets": [b.name for b in a.resources.buckets],
                "queues": [q.name for q in a.resources.queues],
                "topics": [t.name for t in a.resources.topics],
                "tables": [t.name for t in a.resources.tables],
                "parameters": [p.name for p in a.resources.parameters]},
            "deployment_bucket": st.desired.bucket,
            **({"cdn": {"id": a.record.cdn["id"], "domain": a.record.cdn["domain"]}}
               if a.record.cdn else {}),
        })

    def invoke(self, service: Service, function: str, event: Any, *,
               asynchronous: bool = False) -> InvokeOutput:
        if function not in service.all_function_names():
            raise InvokeError(f"no function {function!r} in {service.service!r}",
                              where=_where(service, function),
                              fix=f"use one of: {', '.join(service.all_function_names())}")
        aws = self._client(service)
        name = Names.of(service, aws.account).function(function)
        body = json.dumps(event).encode()
        try:
            if asynchronous:
                aws.call("lambda", "invoke", FunctionName=name, Qualifier=service.stage,
                         Payload=body, InvocationType="Event")
                return InvokeOutput(payload=None)
            # The invoking client: it waits as long as the function may run, where the others
            # give up after 60 s and send the request again (the function would run again).
            got = aws.invoke(name, service.stage, body)
        except AwsNotFound:
            raise NotDeployedError(
                f"function {function!r} is not deployed on stage {service.stage!r}",
                where=_where(service, function),
                fix=f"run `aloft deploy {service.stage}` first") from None
        raw, logs = got.payload, got.logs
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        error = None
        if got.errored:
            error = payload.get("errorMessage", str(payload)) if isinstance(payload, dict) \
                else str(payload)
        return InvokeOutput(payload=payload, logs=logs, error=error)

    def logs(self, service: Service, *, function: str | None = None, since: float | None = None,
             filter_text: str | None = None, follow: bool = False) -> Iterator[LogLine]:
        aws = self._client(service)
        fnames = [function] if function else service.all_function_names()
        names = StageNames(service.service, service.stage, aws.account)
        groups = {names.log_group(n): n for n in fnames}
        start = int((since if since is not None else time.time() - 600) * 1000)
        seen: set[str] = set()
        while True:
            newest = start
            for group, name in groups.items():
                params: dict[str, Any] = {"logGroupName": group, "startTime": start,
                                          "interleaved": True}
                if filter_text:
                    params["filterPattern"] = json.dumps(filter_text)
                if aws.find("logs", "describe_log_streams", logGroupName=group,
                            limit=1) is None:
                    continue
                for ev in aws.pages("logs", "filter_log_events", "events", **params):
                    if ev["eventId"] in seen:
                        continue
                    seen.add(ev["eventId"])
                    newest = max(newest, int(ev["timestamp"]))
                    text = str(ev["message"]).rstrip("\n")
                    yield LogLine(ev["timestamp"] / 1000.0, name, text, _request_id(text))
            if not follow:
                return
            start = newest
            time.sleep(2.0)

    def schedule(self, service: Service, enabled: bool, names: Sequence[str] = ()) -> list[str]:
        st = self._deployed(service)
        rules = st.actual.rules.values()
        picked, unknown = schedules_named(((r.name, r.function) for r in rules),
                                          st.names.prefix, names)
        if unknown:  # a typo among the names changes nothing, as on the local cloud
            raise NotDeployedError(
                f"no schedule matches {', '.join(unknown)}", where=_where(service),
                fix=f"schedules: {', '.join(st.actual.rules) or 'none'}")
        changed = []
        for rule in rules:
            if rule.name not in picked:
                continue
            st.aws.call("events", "enable_rule" if enabled else "disable_rule", Name=rule.name,
                        **({"EventBusName": rule.bus} if rule.bus else {}))
            changed.append(rule.name)
        return changed

    def secrets(self, service: Service) -> AwsSecrets:
        return AwsSecrets(self._client(service), service.service, service.stage)

    # -- the failure queue (aloft dlq) --------------------------------------------------------

    def _failure_queue(self, service: Service) -> FailureQueue:
        aws = self._client(service)
        return FailureQueue(aws, StageNames(service.service, service.stage,
                                            aws.account).failure_queue, service.stage)

    def dead_letters(self, service: Service) -> list[DeadLetter]:
        """The async events that failed every retry: the stage's failure queue."""
        return self._failure_queue(service).read()

    def redrive(self, service: Service, ids: Sequence[str] = ()) -> list[str]:
        """Invoke the failed events again (all, or `ids`), each removed from the queue."""
        return self._failure_queue(service).redrive(ids)


def _plan(steps: list[st_.Step]) -> list[PlanStep]:
    return [as_plan_step(fields) for fields in describe(steps)]


def as_plan_step(fields: dict[str, Any]) -> PlanStep:
    """A step as `op` on `resource` (its physical name, when a field says it again: not shown).
    An update shows what it changes, old → new, rather than every setting it sends."""
    step = plan_step(fields, action="op", resource="resource",
                     hidden=("function", "config_hash"))
    if fields.get("changes"):
        return dataclasses.replace(step, details={"changes": fields["changes"]})
    return step


_REQUEST_ID = re.compile(r"RequestId: ([0-9a-f-]{36})|^\S+\t([0-9a-f-]{36})\t")


def _request_id(text: str) -> str | None:
    m = _REQUEST_ID.search(text)
    return (m.group(1) or m.group(2)) if m else None


def _release(releases: tuple[Release, ...], number: int, service: Service) -> Release:
    """The kept release numbered `number`; the error lists the kept ones."""
    for release in releases:
        if release.number == number:
            return release
    raise UsageError(f"no release {number} to roll back to",
                     where=_where(service),
                     fix=f"releases kept: {_numbers(releases)} (`aloft status "
                         f"{service.stage}` lists them)")


def _numbers(releases: tuple[Release, ...]) -> str:
    return ", ".join(str(r.number) for r in releases) or "none"


def _versions(release: Release | None) -> dict[str, int]:
    return {n: int(v) for n, v in release.functions.items()} if release else {}


__all__ = ["ApplyResult", "AwsProvider"]
