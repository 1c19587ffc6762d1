"""The daemon runs under SCHED_BATCH (aloft/local/instances/cpu_policy.py); its functions' code
under the normal policy, however their instances started (fresh, or forked from a template)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling")

cloud = cloud_fixture({"ALOFT_SCHED": "batch"})

PROBE = """
import os
from aloft.local.instances.cpu_policy import batch_scheduling
switched = batch_scheduling()
child = os.fork()
if child == 0:
    os._exit(os.sched_getscheduler(0))
_, status = os.waitpid(child, 0)
print(switched, os.sched_getscheduler(0), os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize(("setting", "batch"), [(None, True), ("normal", False)])
def test_batch_scheduling_is_inherited_and_can_be_turned_off(
    setting: str | None, batch: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ALOFT_SCHED"}
    if setting is not None:
        env["ALOFT_SCHED"] = setting
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, check=True)
    policy = os.SCHED_BATCH if batch else os.SCHED_OTHER  # the process's, and its child's
    assert done.stdout.split() == [str(batch), str(policy), str(policy)]


HANDLER = """
    import os


    def policy(event, context):
        return {"pid": os.getpid(), "policy": os.sched_getscheduler(0),
                "threads": [os.sched_getscheduler(int(t))
                            for t in os.listdir("/proc/self/task")]}
"""


def test_the_daemon_batches_its_functions_do_not(cloud: Cloud, tmp_path: Path) -> None:
    info = cloud.client.running()
    assert info is not None
    assert os.sched_getscheduler(info.pid) == os.SCHED_BATCH
    root = write_project(tmp_path / "p", """
        service: policies
        functions:
          fresh:
            handler: fns.policy
            snapshot: false
          forked:
            handler: fns.policy
        stages:
          dev: {}
    """, {"fns.py": HANDLER})
    svc = service(root)
    cloud.provider.deploy(svc)
    for function in ("fresh", "forked", "forked"):  # the second: a warm instance
        result = cloud.provider.invoke(svc, function, {})
        assert result.error is None, (result.error, result.logs)
        assert result.payload["policy"] == os.SCHED_OTHER, (function, result.payload)
        assert set(result.payload["threads"]) == {os.SCHED_OTHER}, (function, result.payload)
