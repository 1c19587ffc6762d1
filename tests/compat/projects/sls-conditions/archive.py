import os


def run(event, context):
    return {"days": int(os.environ["RETENTION_DAYS"])}
