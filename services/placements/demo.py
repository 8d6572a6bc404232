"""Demo employers and placements for development (deterministic, empty databases only)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from services.placements.adapters.orm import employers, placements
from services.placements.adapters.postcode_districts import centre_of
from shared.db import Database

NAMESPACE = uuid.UUID("0b6f9d7e-3d1c-4e8a-a7d2-6c5e4b3a2f19")
SECTORS = [
    ("health", 0.14),
    ("animal_care", 0.10),
    ("it", 0.10),
    ("education", 0.10),
    ("engineering", 0.08),
    ("retail", 0.12),
    ("hospitality", 0.10),
    ("construction", 0.08),
    ("law", 0.05),
    ("media", 0.06),
    ("public_services", 0.07),
]
DISTRICTS = ["ME14", "CT1", "TN23", "DA11", "ME7", "CT20", "TN9", "CT9"]
"""Towns of the demo county, placed by the shipped postcode-district table."""
WEEKS = ["2027-W25", "2027-W26", "2027-W27", "2027-W28"]
DEMO_EBP = str(uuid.uuid5(uuid.UUID("6f1b7a52-8f7e-4f0e-9b55-5b8a3c1d2e40"), "ebp-0"))
"""The demo partnership's id, as booking's demo gives it to the EBP login."""


def _id(kind: str, n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{n}"))


async def seed(db: Database, *, employers_total: int = 100, today: date | None = None) -> bool:
    async with db.read_session() as s:
        if await s.scalar(sa.select(sa.func.count()).select_from(employers)):
            return False
    rng = random.Random(2027)
    today = today or date.today()
    sectors, weights = zip(*SECTORS, strict=True)
    employer_rows, placement_rows = [], []
    for n in range(employers_total):
        district = DISTRICTS[n % len(DISTRICTS)]
        centre = centre_of(district)
        assert centre is not None, f"{district} is missing from the postcode-district table"
        lat, lon = centre.latitude, centre.longitude
        expired = rng.random() < 0.05
        employer_id = _id("employer", n)
        employer_rows.append(
            {
                "id": employer_id,
                "reference": f"DEMO-E{n + 1:03d}",
                "ebp_id": DEMO_EBP,
                "name": f"Demo Employer {n + 1:03d}",
                "contact_email": f"placements{n + 1:03d}@employer.example",
                "postcode": district,
                "postcode_district": district,
                "latitude": lat + rng.uniform(-0.05, 0.05),
                "longitude": lon + rng.uniform(-0.08, 0.08),
                "health_safety_expires": today + timedelta(days=-10 if expired else 400),
                "insurance_expires": today + timedelta(days=rng.randint(20, 500)),
            }
        )
        for k in range(1 + n % 2):
            sector = rng.choices(sectors, weights)[0]
            offered = rng.sample(WEEKS, k=rng.randint(1, len(WEEKS)))
            placement_rows.append(
                {
                    "id": _id("placement", n * 10 + k),
                    "reference": f"DEMO-P{n + 1:03d}-{k + 1}",
                    "employer_id": employer_id,
                    "title": f"{sector.replace('_', ' ').title()} work experience",
                    "sector": sector,
                    "capacity": {week: rng.randint(1, 3) for week in sorted(offered)},
                    "minimum_age": 14 if rng.random() < 0.85 else 16,
                    "accessibility": ["step_free"] if rng.random() < 0.4 else [],
                    "self_found": False,
                }
            )
    async with db.session() as s:
        await s.execute(employers.insert(), employer_rows)
        await s.execute(placements.insert(), placement_rows)
    return True
