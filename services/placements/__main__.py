"""Run the placements service: `python -m services.placements`."""

from services.placements.bootstrap import create_app
from services.placements.settings import PlacementsSettings
from shared.http.app import serve

if __name__ == "__main__":
    serve(PlacementsSettings, create_app)
