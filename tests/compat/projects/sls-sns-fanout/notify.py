def email(event, context):
    return [r["Sns"]["Message"] for r in event["Records"]]


def page(event, context):
    return len(event["Records"])


def audit(event, context):
    return None
