"""botocore failures translated into aloft errors that say what happened and how to fix it."""

from __future__ import annotations

from typing import Any

from aloft.errors import AloftError, DeployError, Location, ProviderError

NOT_FOUND_CODES = frozenset({
    "ResourceNotFoundException", "NoSuchEntity", "NoSuchKey", "NoSuchBucket", "NotFound", "404",
    "NotFoundException", "ParameterNotFound", "QueueDoesNotExist",
    "ProvisionedConcurrencyConfigNotFoundException", "TargetGroupNotFound", "ListenerNotFound",
    "AWS.SimpleQueueService.NonExistentQueue", "NoSuchBucketPolicy", "NoSuchLifecycleConfiguration",
    "NoSuchTagSet",
})
TAKEN_CODES = frozenset({
    "ResourceConflictException", "EntityAlreadyExists", "EntityAlreadyExistsException",
    "BucketAlreadyExists", "ResourceInUseException", "ResourceAlreadyExistsException",
    "ConflictException", "QueueAlreadyExists", "QueueNameExists",
})
DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
    "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
    "AuthorizationError", "AuthFailure",
})
QUOTA_CODES = frozenset({
    "LimitExceededException", "LimitExceeded", "ServiceQuotaExceededException",
    "TooManyRequestsException", "Throttling", "ThrottlingException", "TooManyBuckets",
    "CodeStorageExceededException",
})
TOO_LARGE_CODES = frozenset({"RequestEntityTooLargeException", "EntityTooLarge"})


class AwsNotFound(ProviderError):
    """An AWS resource does not exist (read paths turn this into 'absent')."""


def error_code(exc: Any) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _message(exc: Any) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


def translate(exc: Exception, operation: str, where: Location | None) -> AloftError:
    """The aloft error for a botocore exception raised by `operation` (lambda.CreateFunction)."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return ProviderError(
            "no AWS credentials found", where=where,
            fix="run `aws configure` (or `aws sso login`), set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or set `aws.profile` in the stage",
        )
    if name == "NoRegionError":
        return ProviderError(
            "no AWS region is set", where=where,
            fix="set `aws.region` in the stage, or AWS_REGION / AWS_DEFAULT_REGION",
        )
    if name == "ProfileNotFound":
        return ProviderError(str(exc), where=where,
                             fix="fix `aws.profile` or add the profile with `aws configure`")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return ProviderError(f"cannot reach AWS for {operation}: {exc}", where=where,
                             fix="check the network connection and the region name")
    code, message = error_code(exc), _message(exc)
    if code in NOT_FOUND_CODES:
        return AwsNotFound(f"{operation}: {message}", where=where)
    status = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get(
        "HTTPStatusCode")
    if code in DENIED_CODES or status == 403 or code == "403":
        return ProviderError(
            f"access denied: {operation} ({message})", where=where,
            fix=f"grant the deploying identity permission for {operation.replace('.', ':')} "
                "or use a profile that has it (`aws.profile`)",
        )
    if code in TOO_LARGE_CODES or "Unzipped size must be smaller" in message or (
        code == "InvalidParameterValueException" and "size" in message.lower()
        and "exceed" in message.lower()
    ):
        return DeployError(
            f"the package is too large for Lambda: {message}", where=where,
            fix="add big unused files to `exclude`, move heavy dependencies out, or set "
                "`slim: true` (the 250 MB unzipped limit includes layers)",
        )
    if code in TAKEN_CODES:
        return ProviderError(
            f"name already taken: {operation} ({message})", where=where,
            fix="the name is used by another stack or account: rename the service or stage, "
                "set an explicit `name:` on the resource, or delete the existing one",
        )
    if code in QUOTA_CODES:
        return ProviderError(
            f"an AWS quota was exceeded: {operation} ({message})", where=where,
            fix="delete unused resources (old layer versions, functions) or request a quota "
                "increase in the Service Quotas console",
        )
    return ProviderError(f"{operation} failed: {code or name}: {message}", where=where)
