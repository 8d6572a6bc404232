"""Run the booking service: `python -m services.booking` (see `entrypoints.serve`)."""

from services.booking.entrypoints.serve import main

if __name__ == "__main__":
    main()
