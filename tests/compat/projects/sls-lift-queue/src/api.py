def handler(event, context):
    return {"statusCode": 202, "body": "queued"}
