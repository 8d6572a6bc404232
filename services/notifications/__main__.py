"""Run the notifications service: `python -m services.notifications`."""

from services.notifications.bootstrap import create_app
from services.notifications.settings import NotificationsSettings
from shared.http.app import serve

if __name__ == "__main__":
    serve(NotificationsSettings, create_app)
