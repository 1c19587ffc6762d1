"""What the corpus's projects pass today: the request each deployed stage answers, the projects
the test suite deploys, and the known gaps (each check a project is expected to fail, with a
part of the reason, so that fixing one shows here)."""

from __future__ import annotations

from tests.compat.harness import Call

CALLS: dict[str, Call] = {
    "sls-rest-cors": Call("/items", contains='"items"'),
    "sls-httpapi": Call("/users/42", contains='"42"'),
    "sls-params-stages": Call("/invoices/7", contains="DEBUG"),
    "sls-sqs-worker": Call("/jobs", method="POST", status=202, body=b"{}"),
    "sls-offline": Call("/ping", contains="pong"),
    "sls-lift-queue": Call("/jobs", method="POST", status=202, body=b"{}"),
    "sls-dotenv": Call("/greet", contains='"Hi"'),
    "sls-iam-getatt": Call("/signup", method="POST", body=b"{}"),
    "sls-alb": Call("/dashboard", contains="dashboard"),
    "sls-flask-wsgi": Call("/", contains='"notes"'),
    "sls-django-wsgi": Call("/", contains="blog"),
    "sls-fastapi-mangum": Call("/items/5", contains='"item_id":5'),
    "zappa-flask-basic": Call("/", contains="Hello from Zappa"),
    "zappa-flask-extends": Call("/items", contains='"items"'),
    "zappa-django": Call("/health/", contains="ok"),
    "zappa-events": Call("/", contains="ingest"),
    "zappa-toml": Call("/", contains="toml"),
    "zappa-function-url": Call("/", contains="url"),
    "zappa-keepwarm-binary": Call("/", contains="images"),
}
"""The request each deployed project is asked (projects without one are only deployed)."""

DEPLOYED = (
    "sls-alb", "sls-cf-outputs", "sls-conditions", "sls-destinations", "sls-dotenv",
    "sls-dynamodb-stream", "sls-eventbridge", "sls-file-vars", "sls-httpapi", "sls-iam-getatt",
    "sls-iam-per-function", "sls-kinesis", "sls-lift-queue", "sls-offline",
    "sls-params-stages", "sls-rest-cors", "sls-s3-thumbnails", "sls-schedule",
    "sls-sns-fanout", "sls-sqs-worker", "sls-use-dotenv",
    "sls-dynamodb-crud",  # boto3: the runtime's, as on Lambda
    # with dependencies (installed by pip, from its cache after the first run)
    "sls-flask-wsgi", "zappa-django", "sls-fastapi-mangum",
)
"""Projects the test suite deploys to the local cloud (the report deploys every project)."""

GAPS: dict[tuple[str, str], str] = {
    ("sls-sub-select", "deploy"): "cannot be resolved on the local cloud: it has no other "
                                  "stacks",
}
"""Known gaps: (project, check) -> a part of why it fails today."""
