"""botocore's failures translated into aloft errors that say what went wrong and the fix (pure:
a ClientError in, an AloftError out)."""

from __future__ import annotations

import pytest


def client_error(code: str, message: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(("code", "message", "expected", "fix_word"), [
    ("RequestEntityTooLargeException", "Request must be smaller than 70167211 bytes",
     "too large", "exclude"),
    ("InvalidParameterValueException",
     "Unzipped size must be smaller than 262144000 bytes", "too large", "slim"),
    ("TooManyRequestsException", "Rate exceeded", "quota", "quota"),
    ("CodeStorageExceededException", "Code storage limit exceeded", "quota", "old layer"),
    ("EntityAlreadyExists", "Role with name x already exists.", "already taken", "rename"),
    ("AccessDeniedException", "User is not authorized", "access denied", "grant"),
])
def test_translation_names_the_fix(code: str, message: str, expected: str,
                                   fix_word: str) -> None:
    from aloft.aws.errors import translate
    from aloft.errors import Location

    err = translate(client_error(code, message), "lambda.CreateFunction",
                    Location(stage="prod"))
    assert expected in err.message and "stage 'prod'" in str(err)
    assert fix_word in (err.fix or "")
