"""Approximate centres of postcode districts, for employers whose import gives no coordinates.

The table the project ships (`postcode_districts.csv`) covers Kent and Medway and the districts
on their borders. A district centre is good to a few kilometres, which is enough for the
straight-line travel limits students give.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("postcode_districts.csv")
_DISTRICT = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)(?:\s*[0-9][A-Z]{2})?$")


@dataclass(frozen=True, slots=True)
class DistrictCentre:
    district: str
    latitude: float
    longitude: float


def normalise_postcode(postcode: str) -> str:
    """Upper case with single spaces, as postcodes are stored (" me14  1xx" -> "ME14 1XX")."""
    return " ".join(postcode.upper().split())


def district_of(postcode: str) -> str | None:
    """The outward code of a full postcode or a bare district ("ME14 1XX" -> "ME14")."""
    found = _DISTRICT.match(normalise_postcode(postcode))
    return found.group(1) if found else None


@cache
def _table() -> dict[str, DistrictCentre]:
    with TABLE.open(encoding="utf-8") as handle:
        return {
            row["district"]: DistrictCentre(
                row["district"], float(row["latitude"]), float(row["longitude"])
            )
            for row in csv.DictReader(handle)
        }


def centre_of(district: str) -> DistrictCentre | None:
    return _table().get(district.upper())


def coordinates(
    latitude: float | None, longitude: float | None, district: str | None
) -> tuple[float, float] | None:
    """The coordinates given, or else the centre of the postcode district; None when the
    coordinates are incomplete and the district is not in the table."""
    if latitude is not None and longitude is not None:
        return latitude, longitude
    centre = centre_of(district or "")
    return (centre.latitude, centre.longitude) if centre is not None else None
