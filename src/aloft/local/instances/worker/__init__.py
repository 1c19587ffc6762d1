"""The files that run inside an instance process: `instance_main.py` and the modules it loads by
path (`protocol`, `proxy_response`, `event_builders`, `trace_env`, ...).

Standard library only, and no import of aloft.local (nor of this package): an instance runs
`python -S instance_main.py` with only its artifact on sys.path, like a Lambda function, and
loads its siblings by path. The platform imports the same files as ordinary modules.
tests/integration/local/instances/test_worker_stdlib.py imports them in a bare interpreter.
"""
