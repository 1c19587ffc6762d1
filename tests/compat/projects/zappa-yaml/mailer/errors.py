def report(exception, event, context):
    return True
