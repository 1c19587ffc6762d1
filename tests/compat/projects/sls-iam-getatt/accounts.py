import json
import os


def signup(event, context):
    return {"statusCode": 200, "body": json.dumps({"table": os.environ.get("USERS_TABLE")})}
