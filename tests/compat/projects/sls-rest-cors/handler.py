import json


def list_items(event, context):
    return {"statusCode": 200, "body": json.dumps({"items": ["a", "b"]})}


def create_item(event, context):
    body = json.loads(event.get("body") or "{}")
    return {"statusCode": 201, "body": json.dumps({"created": body})}


def health(event, context):
    return {"statusCode": 200, "body": "ok"}
