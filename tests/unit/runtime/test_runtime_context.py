"""LambdaContext from the AWS_LAMBDA_* environment and a monotonic deadline."""

from __future__ import annotations

import time

from aloft.runtime.context import LambdaContext


def test_context_from_environ() -> None:
    context = LambdaContext._from_environ(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "svc-dev-app",
            "AWS_LAMBDA_FUNCTION_VERSION": "7",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/svc-dev-app",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[7]abc",
            "AWS_REGION": "eu-west-1",
        },
        request_id="req-1",
        timeout_s=2,
    )
    assert context.function_name == "svc-dev-app"
    assert context.function_version == "7"
    assert context.memory_limit_in_mb == "256"  # a string, as Lambda's runtime leaves it
    assert context.aws_request_id == "req-1"
    assert context.invoked_function_arn == (
        "arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-app"
    )
    assert context.log_group_name == "/aws/lambda/svc-dev-app"
    assert context.log_stream_name == "2026/01/01/[7]abc"
    assert 1000 <= context.get_remaining_time_in_millis() <= 2000


def test_remaining_time_counts_down_to_zero() -> None:
    context = LambdaContext(function_name="f", deadline=time.monotonic() + 0.05)
    first = context.get_remaining_time_in_millis()
    time.sleep(0.06)  # past the deadline: what is measured is time itself
    assert first > 0 and context.get_remaining_time_in_millis() == 0
    assert len(LambdaContext(function_name="f").aws_request_id) == 36  # a fresh uuid


def test_defaults_outside_lambda() -> None:
    context = LambdaContext._from_environ({"ALOFT_TIMEOUT": "5"})
    assert context.function_name == "aloft-local"
    assert context.memory_limit_in_mb == "128"
    assert context.identity.cognito_identity_id is None  # always there, as on Lambda
    assert context.client_context is None and context.tenant_id is None
    assert 4000 <= context.get_remaining_time_in_millis() <= 5000
