"""Made-up names for the demo county: its ids, its schools, their towns and its students."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1b7a52-8f7e-4f0e-9b55-5b8a3c1d2e40")


def demo_id(kind: str, n: int | str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{n}"))


SCHOOL_NAMES = [
    "Ashcombe Academy",
    "Brookfield School",
    "Castlemead High",
    "Dunmore Grammar",
    "Elmstead Community College",
    "Foxhollow School",
    "Greyfriars Academy",
    "Harrowden High",
    "Ivybridge Court School",
    "Juniper Vale College",
]
TOWNS = [  # postcode district and rough centre of a fictional county's towns
    ("ME14", 51.28, 0.53),
    ("CT1", 51.28, 1.08),
    ("TN23", 51.14, 0.87),
    ("DA11", 51.44, 0.36),
    ("ME7", 51.38, 0.55),
    ("CT20", 51.08, 1.17),
    ("TN9", 51.19, 0.27),
    ("CT9", 51.38, 1.38),
    ("ME10", 51.34, 0.73),
    ("TN4", 51.15, 0.25),
]


FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Finn",
    "Grace",
    "Harvey",
    "Isla",
    "Jack",
    "Kai",
    "Layla",
    "Mo",
    "Niamh",
    "Oscar",
    "Priya",
    "Ruby",
    "Sam",
    "Tia",
    "Zac",
)
LAST_NAMES = (
    "Ahmed",
    "Brown",
    "Clarke",
    "Davies",
    "Evans",
    "Foster",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nowak",
    "Patel",
    "Quinn",
    "Roberts",
)


def demo_name(n: int) -> str:
    """A made-up name for the `n`th demo student, so that staff pages have names to show."""
    return (
        f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[n // len(FIRST_NAMES) % len(LAST_NAMES)]}"
    )
