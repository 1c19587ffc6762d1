"""flask-hello: the smallest useful Flask app on aloft."""

from flask import Flask, Response, jsonify, request, url_for

app = Flask(__name__)


@app.get("/")
def index() -> str:
    # url_for includes the stage's base path (/flask-hello/dev on the local cloud) because
    # aloft passes it to Flask as SCRIPT_NAME: the link works wherever the app is mounted.
    link = url_for("hello", name="aloft")
    return f'<h1>Hello from aloft!</h1>\n<p><a href="{link}">{link}</a></p>\n'


@app.get("/hello/<name>")
def hello(name: str) -> Response:
    return jsonify(message=f"Hello, {name}!", path=request.path, script_root=request.script_root)


@app.post("/echo")
def echo() -> Response:
    """Echo the request body back with its content type."""
    return app.response_class(
        request.get_data(), status=200,
        content_type=request.content_type or "application/octet-stream",
    )
