"""An exception the user's function raised leaves aloft's runtime with the user's frames first.

Lambda's runtime (awslambdaric) leaves its own bootstrap's frames out of a failed invocation's
`stackTrace` (and of the traceback it logs): what it shows starts at the handler. aloft's entry
point and dispatch sit between the two, so without this the user would read four frames of
aloft's runtime before their own. The places that call the user's function `note` an exception
that came out of the call; the entry points (`handler.handler`, `Instance.handle_http`) `trim`
it to the user's frames and re-raise it, so that the frames of aloft's runtime it went through
are left out, on Lambda as in the local cloud and `aloft invoke --local`. An exception raised
by aloft's own code (an event it cannot serve, a bug) is not noted: it keeps every frame.

An entry point re-raises a trimmed exception with a bare `raise`, which adds no entry for its
own frame from Python 3.11 on. On 3.9 and 3.10, a bare `raise` re-raises the traceback the
`except` caught (every frame), so the entry point raises the exception again (`raise exc`):
its one frame stays first, before the user's (`RERAISE_KEEPS_TRACEBACK`).

Standard library only, and Python 3.9 compatible: this module is copied into every artifact.
"""

from __future__ import annotations

import sys
from types import TracebackType

RERAISE_KEEPS_TRACEBACK = sys.version_info >= (3, 11)
"""A bare `raise` re-raises the exception with its `__traceback__` as it is now."""

# The exception last noted and the first entry of its traceback that is the user's. One at a
# time: an instance runs one invocation at a time, and an entry point takes it at once.
_noted: tuple[BaseException, TracebackType] | None = None


def note(exc: BaseException) -> None:
    """Call in the `except` clause around the call into the user's function (and nothing else
    that could raise): its traceback's first entry is that frame, the ones after are the
    user's."""
    global _noted
    tb = exc.__traceback__
    if tb is not None and tb.tb_next is not None:
        _noted = (exc, tb.tb_next)


def trim(exc: BaseException) -> bool:
    """Give `exc` the traceback from the user's first frame on, if `note` noted it and that
    frame is still in its traceback; whether it did. The note is forgotten either way."""
    global _noted
    noted, _noted = _noted, None
    if noted is None or noted[0] is not exc:
        return False
    tb, user = exc.__traceback__, noted[1]
    while tb is not None and tb is not user:
        tb = tb.tb_next
    if tb is None:  # re-raised with another traceback since: keep that one
        return False
    exc.with_traceback(user)
    return True
