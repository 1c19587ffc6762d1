def upload(event, context):
    return "uploaded"


def publish(event, context):
    return "published"
