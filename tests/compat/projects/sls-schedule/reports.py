def nightly(event, context):
    return "nightly"


def hourly(event, context):
    return event.get("kind")


def paused(event, context):
    return None
