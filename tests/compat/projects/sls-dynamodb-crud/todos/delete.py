import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["DYNAMODB_TABLE"])


def delete(event, context):
    return {"statusCode": 200, "body": json.dumps({"op": "delete"})}
