import json
import os


def invoice(event, context):
    return {"statusCode": 200, "body": json.dumps({"level": os.environ["LOG_LEVEL"]})}
