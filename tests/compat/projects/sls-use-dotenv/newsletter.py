import os


def send(event, context):
    return os.environ["MAILER_URL"]
