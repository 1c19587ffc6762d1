import os


def handler(event, context):
    return {"account": os.environ["ACCOUNT_ID"], "queue": os.environ["SHARED_QUEUE_URL"]}
