from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/items")
def items():
    return jsonify(items=[])
