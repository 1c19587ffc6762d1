"""Shared test material for the runtime tests: event loading, settings, user-code sources."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FIXTURE_EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "events"

DEFAULT_BINARY = ["image/*", "application/octet-stream", "application/pdf"]

# A Flask app that answers with a JSON summary of what it saw and keeps the whole environ in
# LAST, so tests can assert on exactly what the runtime handed to the app.
ECHO_APP = '''
import gzip, json
from flask import Flask, Response, request

app = Flask(__name__)
app.config["PROPAGATE_EXCEPTIONS"] = True  # let errors reach the runtime, as bare WSGI apps do
LAST = {}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

@app.route("/", defaults={"p": ""}, methods=METHODS)
@app.route("/<path:p>", methods=METHODS)
def echo(p):
    env = request.environ
    body = request.get_data()
    LAST.clear()
    LAST.update(environ=dict(env), body=body)
    if p.endswith("binary"):
        return Response(bytes(range(256)), mimetype="image/png")
    if p.endswith("gzip"):
        return Response(gzip.compress(b"hello " * 20), mimetype="text/plain",
                        headers={"Content-Encoding": "gzip"})
    if p.endswith("cookies"):
        r = Response("cookies", mimetype="text/plain")
        r.set_cookie("a", "1")
        r.set_cookie("b", "2")
        r.headers.add("X-Repeat", "one")
        r.headers.add("X-Repeat", "two")
        return r
    if p.endswith("boom"):
        raise RuntimeError("boom from the app")
    seen = {
        "method": request.method,
        "script_name": env["SCRIPT_NAME"],
        "path_info": env["PATH_INFO"],
        "path": request.path,
        "query": env["QUERY_STRING"],
        "args": request.args.to_dict(flat=False),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": body.decode("utf-8", "replace"),
        "remote_addr": request.remote_addr,
        "remote_user": env.get("REMOTE_USER"),
        "url": request.url,
        "url_root": request.url_root,
    }
    return Response(json.dumps(seen), mimetype="application/json")
'''

RECORDER = '''
CALLS = []

def handle(event, context):
    CALLS.append((event, context))
    return {"handled": len(CALLS)}

def each(record, context):
    CALLS.append((record, context))
    if "fail" in json_text(record):
        raise ValueError("record refused")

def json_text(record):
    import json
    return json.dumps(record)
'''

# A handler as Lambda's users write them (`lambda_function.lambda_handler`), failing in a
# function it calls: Lambda's error object shows the handler's own frame first.
LAMBDA_FUNCTION = """import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    order = parse_order(event["body"])
    logger.info("order %s", order["id"])
    return {"statusCode": 200, "body": json.dumps(order)}


def parse_order(body):
    order = json.loads(body)
    if order.get("quantity", 0) <= 0:
        raise ValueError(f"quantity must be positive, got {order.get('quantity')}")
    return order
"""
ORDER_EVENT = {"body": json.dumps({"id": "o-1", "quantity": 0})}
ORDER_ERROR = ("ValueError", "quantity must be positive, got 0")


def handler_frame(path: str) -> str:
    """The `stackTrace` entry of LAMBDA_FUNCTION's handler frame, the file at `path`."""
    code = 'order = parse_order(event["body"])'
    line = LAMBDA_FUNCTION.splitlines().index(f"    {code}") + 1
    return f'  File "{path}", line {line}, in lambda_handler\n    {code}\n'


def load_event(name: str) -> Any:
    """One of the project's own event fixtures (tests/fixtures/events/)."""
    return json.loads((FIXTURE_EVENTS / name).read_text())


def make_settings(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service": "svc",
        "stage": "dev",
        "app": None,
        "django_settings": None,
        "functions": {},
        "exception_handler": None,
        "binary_types": DEFAULT_BINARY,
        "debug": False,
        "task_function": None,
        "slim": False,
    }
    base.update(over)
    return base


def user_module(name: str) -> Any:
    return sys.modules[name]
