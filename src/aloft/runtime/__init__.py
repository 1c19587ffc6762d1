"""The code inside every aloft function: standard library only, copied into each artifact.

Entry point: `aloft.runtime.handler.handler(event, context)`. Nothing is imported here so that
`import aloft` (for `@aloft.task`) stays cheap.
"""
