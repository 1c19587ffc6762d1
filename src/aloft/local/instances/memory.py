"""Memory limits: the pool side of them (instance_main.py sets RLIMIT_DATA inside the instance).

Measured on Linux 6.x with CPython 3.11 and a Flask app (`-S -P`, Flask imported and one request
served): VmRSS 31 MB, VmData 21 MB, VmSize 38 MB. So a 128 MB limit leaves room for the app, and:
- RLIMIT_DATA (private writable memory) at the function's size turns a large allocation into a
  MemoryError at once; the instance reports it as Lambda's Runtime.OutOfMemory and exits.
- RLIMIT_AS would also count every thread's 8 MB stack and glibc's 64 MB per-thread malloc arena
  reservations, killing threaded apps far below their real use, so it is not used.
- Memory that grows without a big allocation (many small objects, native libraries) is caught by
  the RSS watchdog: the pool samples busy instances' RSS and SIGKILLs one that is over its size.
"""

from __future__ import annotations

import os

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
WATCHDOG_INTERVAL = 0.05  # seconds between RSS samples of busy instances


def rss_bytes(pid: int) -> int | None:
    """Resident set size of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            fields = fh.read().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE


def over_limit(pid: int, memory_mb: int) -> bool:
    rss = rss_bytes(pid)
    return rss is not None and rss > memory_mb * 1024 * 1024
