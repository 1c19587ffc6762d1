def dashboard(event, context):
    return {"statusCode": 200, "statusDescription": "200 OK", "body": "dashboard",
            "headers": {"Content-Type": "text/plain"}}
