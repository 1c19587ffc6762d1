import json


def get_user(event, context):
    user_id = event["pathParameters"]["id"]
    return {"statusCode": 200, "body": json.dumps({"id": user_id})}


def create_user(event, context):
    return {"statusCode": 201, "body": event.get("body") or "{}"}
