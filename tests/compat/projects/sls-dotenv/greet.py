import json
import os


def handler(event, context):
    return {"statusCode": 200,
            "body": json.dumps({"greeting": os.environ["GREETING_PREFIX"],
                                "api": os.environ.get("API_BASE_URL")})}
