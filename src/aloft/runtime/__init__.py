"""The code inside every aloft function: standard library only, copied into each artifact.

Entry points:
    aloft.runtime.handler.handler(event, context)  the Lambda handler of every function
    aloft.runtime.handler.init()                   load settings and user code (init phase)
    python -S -m aloft.runtime.invoke           one local invocation (event on stdin)

Modules: `settings` (the artifact contract), `sources` (which event is which), `http` (the
request and response records), `wsgi` / `asgi` (the app bridges), `commands` (aloft's
envelopes), `tasks` + `sigv4` (@aloft.task), `slim` (dependencies unpacked at cold start),
`context` (LambdaContext), `loader` (importing user code), `errors`.

Nothing is imported here, so that `import aloft` (for `@aloft.task`) stays cheap.
"""
