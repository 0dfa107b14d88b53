"""A Flask receiver that verifies, parses and prints each sendout webhook.

Run it (from the repository root, with the secret ``sendout credentials`` shows):

    pip install './receiver[flask]'
    SENDOUT_WEBHOOK_SECRET=whsec_… flask --app receiver/examples/flask_app.py run --port 9000

then point a webhook channel at ``http://127.0.0.1:9000/hooks``. A request that is not signed
with the secret is answered 401 and never reaches ``hooks``.
"""

from __future__ import annotations

import os

from flask import Flask

from sendout_receiver import CustomerCustomEventWebhook
from sendout_receiver.flask import verified_webhook

SECRET = os.environ.get("SENDOUT_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

app = Flask(__name__)


@app.post("/hooks")
@verified_webhook(SECRET)
def hooks(webhook: CustomerCustomEventWebhook) -> dict[str, str]:
    data = webhook.data
    print(f"{webhook.id} {webhook.type}: {data.event.type} for {data.customer.source_id}")
    if data.voucher is not None:
        print(f"  code {data.voucher.code}")
    return {"received": webhook.id}
