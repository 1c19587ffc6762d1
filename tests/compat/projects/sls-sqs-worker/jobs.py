import json


def enqueue(event, context):
    return {"statusCode": 202, "body": json.dumps({"queued": True})}


def work(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
