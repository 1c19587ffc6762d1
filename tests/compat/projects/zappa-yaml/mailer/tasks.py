from zappa.asynchronous import task


@task
def send_email(address):
    return address


def send_digest():
    return "digest"
