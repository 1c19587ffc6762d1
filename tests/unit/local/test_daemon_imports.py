"""The daemon loads boto3 only when an event source needs it: most platforms have none, and
boto3 costs the daemon about 9 MB (PSS) and 150 ms of its start. Checked in a fresh interpreter
(this test process has imported everything already); it asserts which modules load, never how
long it takes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent("""
    import json, sys

    def loaded():
        return sorted(m for m in ("boto3", "botocore") if m in sys.modules)

    import aloft.local.daemon
    from aloft.local.triggers.pollers.clients import EndpointClients

    steps = {"daemon imported": loaded()}
    clients = EndpointClients("http://127.0.0.1:9")  # (nothing listens: no call is made)
    steps["clients made"] = loaded()
    sqs = clients.sqs
    steps["first client"] = loaded()
    steps["same client again"] = clients.sqs is sqs
    steps["endpoint"] = sqs.meta.endpoint_url
    print(json.dumps(steps))
""")


def test_boto3_is_imported_with_the_first_poller_client() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert steps == {"daemon imported": [], "clients made": [],
                     "first client": ["boto3", "botocore"], "same client again": True,
                     "endpoint": "http://127.0.0.1:9"}
