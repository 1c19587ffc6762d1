"""The local cloud: aloft's embedded serverless platform with AWS Lambda's semantics.

Its rooms (docs/contributing.md has the map, module by module): `http` (the HTTP front),
`instances` (the pool and its processes; `instances/worker` runs inside them), `services` (the
AWS-compatible services), `triggers` (schedules, async queue, event-source pollers), `deploy`,
`control` (control API, Invoke API, dashboard, status) and `store` (home, state, logs, metrics,
artifacts). `daemon` composes them; `provider` is the CLI's side; `types` is shared by all.
"""
