"""Run the booking service: `python -m services.booking`."""

from services.booking.bootstrap import create_app
from services.booking.settings import BookingSettings
from shared.http.app import serve

if __name__ == "__main__":
    serve(BookingSettings, create_app)
