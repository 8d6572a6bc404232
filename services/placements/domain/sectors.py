"""The sectors placements are filed under, and reading the names EBPs actually write for them.

Spreadsheets say "Hair & Beauty", "Animal Care" or "IT"; the catalogue files each under one
slug. A name is lower-cased, "&" read as "and", and every run of spaces or punctuation becomes
one underscore: "Hair & Beauty" is ``hair_and_beauty``.
"""

from __future__ import annotations

import re

SECTORS = (
    "agriculture",
    "animal_care",
    "arts",
    "automotive",
    "business_and_admin",
    "construction",
    "education",
    "engineering",
    "finance",
    "hair_and_beauty",
    "health",
    "hospitality",
    "it",
    "law",
    "media",
    "public_services",
    "retail",
    "science",
    "sport",
    "travel_and_tourism",
)

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def sector_slug(name: str) -> str | None:
    """The known sector ``name`` stands for, or None when it names none of them."""
    spaced = name.lower().replace("&", " and ").replace("+", " and ")
    slug = _SEPARATORS.sub("_", spaced).strip("_")
    return slug if slug in SECTORS else None
