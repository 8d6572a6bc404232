"""`python -m services.notifications.devtools`: the fake SMS provider and the SMTP sink.

`make run` starts this beside the services, so every message can be seen: texts at
`/_fake/messages` on the fake provider, emails as files under `var/mail/`, and both on
notifications' `/dev/outbox` page.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

from services.notifications.devtools.fake_twilio import FakeTwilio
from services.notifications.devtools.smtp_sink import start_sink
from services.notifications.settings import NotificationsSettings


def main() -> None:
    settings = NotificationsSettings.from_env()
    if settings.is_production:
        raise SystemExit("the development fakes do not run in production")
    controller, _ = start_sink(settings.smtp_port, Path(settings.data_dir) / "mail")
    fake = FakeTwilio(settings.twilio_account_sid, settings.twilio_auth_token)
    url = urlparse(settings.twilio_api_base_url)
    try:
        web.run_app(
            fake.app(),
            host=url.hostname or "127.0.0.1",
            port=url.port or 8093,
            print=None,
            access_log=None,
        )
    finally:
        controller.stop()


if __name__ == "__main__":
    os.environ.setdefault("SIGNPOST_ENV", "development")
    main()
