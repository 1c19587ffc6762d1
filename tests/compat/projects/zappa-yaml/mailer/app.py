from flask import Flask

from mailer.tasks import send_email

app = Flask(__name__)


@app.post("/send")
def send():
    send_email("someone@example.com")
    return "queued", 202
