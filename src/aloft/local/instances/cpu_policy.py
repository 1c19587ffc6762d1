"""The daemon's CPU scheduling: its threads run under Linux's SCHED_BATCH, its functions' under
the normal policy.

SCHED_BATCH (no privilege needed) tells the scheduler the daemon is a throughput job: when a
read wakes its event loop, the loop does not preempt what runs on that CPU (an instance, the
client) but waits for its turn, and by then it finds more requests and answers to handle in
one pass. Under load on bench/'s 2-CPU machine the gateway then spent 10-13 % less CPU per
request and served 7-11 % more requests/s for FastAPI (docs/local-cloud.md, Figures); with idle
CPUs (a laptop's 8 or more) nothing waits and nothing changes, and an otherwise idle machine's
one-connection latency is the same. Instances (instance_main) set themselves back to the
normal policy before any of a function's code runs: the user's code is scheduled as anywhere.

ALOFT_SCHED=normal in the daemon's environment keeps the normal policy.
"""

from __future__ import annotations

import os

SCHED_ENV = "ALOFT_SCHED"


def batch_scheduling() -> bool:
    """Run the calling thread, and the threads and processes it starts from now on, under
    SCHED_BATCH, unless ALOFT_SCHED says `normal`; whether it does (False where the platform
    has no such policy or refuses it: nothing else changes)."""
    if os.environ.get(SCHED_ENV, "batch").strip().lower() == "normal":
        return False
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:  # not Linux
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:  # a seccomp profile that forbids it
        return False
    return True
