def on_created(event, context):
    return event["detail"]


def cleanup(event, context):
    return event
