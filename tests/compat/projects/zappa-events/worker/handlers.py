def on_upload(event, context):
    return [r["s3"]["object"]["key"] for r in event["Records"]]


def on_message(event, context):
    return {"batchItemFailures": []}


def on_alert(event, context):
    return None


def on_change(event, context):
    return None


def on_click(event, context):
    return None
