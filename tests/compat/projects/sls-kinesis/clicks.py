def count(event, context):
    return len(event["Records"])
