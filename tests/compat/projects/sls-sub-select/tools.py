def consume(event, context):
    return len(event["Records"])
