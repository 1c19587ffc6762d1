"""Function instances, seen from the platform: the instance pool (templates, zygotes, scaling,
timeouts, reaping), the processes it spawns and forks, concurrency and memory limits.

What runs inside the instance process is in `worker/` (standard library only)."""
