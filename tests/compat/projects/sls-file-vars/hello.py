import os


def handler(event, context):
    return {"owner": os.environ["OWNER"], "api": os.environ["API_URL"]}
