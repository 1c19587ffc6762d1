"""Where the real AWS event payloads live: `shared/aws-events` beside the repository (as on the
developers' machines and in CI). `ALOFT_AWS_EVENTS` points elsewhere for other checkouts."""

from __future__ import annotations

import os
from pathlib import Path

AWS_EVENTS = Path(
    os.environ.get("ALOFT_AWS_EVENTS")
    or Path(__file__).resolve().parents[2] / "shared" / "aws-events"
)

if not AWS_EVENTS.is_dir():
    raise RuntimeError(
        f"the AWS event samples are not at {AWS_EVENTS}: put shared/aws-events beside the "
        "repository or set ALOFT_AWS_EVENTS to their directory"
    )
