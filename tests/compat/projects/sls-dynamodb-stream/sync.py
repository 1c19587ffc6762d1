def on_change(event, context):
    return {"batchItemFailures": []}
