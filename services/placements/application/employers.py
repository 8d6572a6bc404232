"""Employers and their placements: CSV import and export, and vetting warnings.

One CSV row is one placement; the employer's columns repeat on each of its placements and
must agree. References (`employer_ref`, `placement_ref`) are the EBP's own and are the natural
keys, so importing the same file twice changes nothing, and an edited file updates in place.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from services.placements.adapters.postcode_districts import (
    centre_of,
    coordinates,
    district_of,
    normalise_postcode,
)
from services.placements.application.ports import PlacementsRepositories, PlacementsUnitOfWork
from services.placements.domain.sectors import SECTORS, sector_slug
from services.placements.domain.weeks import normalise
from shared.csvimport import CsvImportError, ParsedRow, RowError, parse_csv
from shared.events.placements import EmployerUpserted

NAMESPACE = uuid.UUID("5d0c3a4e-9a51-4f7b-8d2e-1e6f0b7c9a31")
SLUG = r"^[a-z][a-z0-9_]{1,59}$"
EMPLOYER_FIELDS = (
    "employer_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "health_safety_expires",
    "insurance_expires",
)
COLUMNS = (
    "employer_ref",
    *EMPLOYER_FIELDS,
    "placement_ref",
    "title",
    "sector",
    "weeks",
    "capacity_per_week",
    "minimum_age",
    "accessibility",
)


def employer_id_for(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"employer:{reference}"))


def placement_id_for(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"placement:{reference}"))


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in value.replace(";", " ").replace(",", " ").split() if part]
    return value


class PlacementRow(BaseModel):
    """One line of an employers file, as an EBP keeps it in a spreadsheet."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    employer_ref: str = Field(min_length=1, max_length=60)
    employer_name: str = Field(min_length=1, max_length=200)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    address: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=49.5, le=61.0)
    longitude: float | None = Field(default=None, ge=-8.5, le=2.0)
    postcode: str | None = Field(default=None, max_length=10)
    health_safety_expires: date
    insurance_expires: date
    placement_ref: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    sector: str = Field(min_length=1, max_length=60, description="a sector's slug or its name")
    weeks: list[str] = Field(min_length=1)
    capacity_per_week: int = Field(ge=1, le=50)
    minimum_age: int = Field(default=14, ge=13, le=19)
    accessibility: list[str] = Field(default_factory=list)

    _split_lists = field_validator("weeks", "accessibility", mode="before")(_split)
    _sector_renamed: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _note_renamed_sector(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        row = handler(data)
        given = data.get("sector") if isinstance(data, dict) else None
        row._sector_renamed = isinstance(given, str) and given.strip() != row.sector
        return row

    @field_validator("sector")
    @classmethod
    def _known_sector(cls, value: str) -> str:
        slug = sector_slug(value)
        if slug is None:
            raise ValueError(
                f"{value!r} is not a known sector; known sectors: {', '.join(SECTORS)}"
            )
        return slug

    @property
    def sector_renamed(self) -> bool:
        """Whether the file named the sector other than by its slug."""
        return self._sector_renamed

    @field_validator("weeks")
    @classmethod
    def _iso_weeks(cls, value: list[str]) -> list[str]:
        """Each entry is a week ("2027-W25") or a week with its own capacity ("2027-W25:3")."""
        for entry in value:
            week, _, places = entry.partition(":")
            normalise([week])
            if places and not (places.isdigit() and 0 < int(places) <= 50):
                raise ValueError(f"{entry!r}: a week's capacity must be a number from 1 to 50")
        if len({entry.partition(":")[0] for entry in value}) != len(value):
            raise ValueError("a week is listed twice")
        return sorted(value)

    @field_validator("accessibility")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        for feature in value:
            if not feature.replace("_", "").isalnum() or not feature.islower():
                raise ValueError(f"{feature!r}: use lower-case words joined by _")
        return sorted(set(value))

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Without coordinates, the postcode's district must be in the shipped table."""
        if value is None:
            return value
        district = district_of(value)
        if district is None:
            raise ValueError(f"{value!r} is not a UK postcode or postcode district")
        if info.data.get("latitude") is None and centre_of(district) is None:
            raise ValueError(
                f"postcode district {district} is not in the district table; "
                "give latitude and longitude"
            )
        return normalise_postcode(value)

    @model_validator(mode="after")
    def _located(self) -> PlacementRow:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.latitude is None and self.postcode is None:
            raise ValueError("give a postcode or latitude and longitude")
        return self

    def capacity(self) -> dict[str, int]:
        """Places per ISO week: the row's capacity, unless the week names its own."""
        capacity = {}
        for entry in self.weeks:
            week, _, places = entry.partition(":")
            capacity[week] = int(places) if places else self.capacity_per_week
        return capacity


@dataclass(frozen=True)
class ImportSummary:
    employers_added: int
    employers_updated: int
    placements_added: int
    placements_updated: int
    unchanged: int
    sectors_normalised: int = 0
    """Rows whose sector was written as a name ("Hair & Beauty") rather than its slug."""


def read_employers_file(source: Path | str | Iterable[str]) -> list[ParsedRow[PlacementRow]]:
    """Parse and check a whole file; raise CsvImportError naming every bad line and field."""
    rows = parse_csv(source, PlacementRow, unique=("placement_ref",))
    errors: list[RowError] = []
    first_seen: dict[str, ParsedRow[PlacementRow]] = {}
    for row in rows:
        value = row.value
        first = first_seen.setdefault(value.employer_ref, row)
        if first is not row:
            for name in EMPLOYER_FIELDS:
                if getattr(value, name) != getattr(first.value, name):
                    errors.append(
                        RowError(
                            row.line,
                            name,
                            f"differs from line {first.line} for the same "
                            f"employer_ref {value.employer_ref}",
                        )
                    )
    if errors:
        raise CsvImportError(errors)
    return rows


def _employer_values(row: PlacementRow, ebp_id: str | None) -> dict[str, Any]:
    district = district_of(row.postcode) if row.postcode else None
    located = coordinates(row.latitude, row.longitude, district)
    assert located is not None  # checked by read_employers_file
    latitude, longitude = located
    return {
        "id": employer_id_for(row.employer_ref),
        "reference": row.employer_ref,
        "ebp_id": ebp_id,
        "name": row.employer_name,
        "contact_name": row.contact_name,
        "contact_email": row.contact_email,
        "contact_phone": row.contact_phone,
        "address": row.address,
        "postcode": row.postcode,
        "postcode_district": district,
        "latitude": latitude,
        "longitude": longitude,
        "health_safety_expires": row.health_safety_expires,
        "insurance_expires": row.insurance_expires,
    }


def _placement_values(row: PlacementRow) -> dict[str, Any]:
    return {
        "id": placement_id_for(row.placement_ref),
        "reference": row.placement_ref,
        "employer_id": employer_id_for(row.employer_ref),
        "title": row.title,
        "sector": row.sector,
        "capacity": row.capacity(),
        "minimum_age": row.minimum_age,
        "accessibility": row.accessibility,
        "self_found": False,
    }


@dataclass(frozen=True)
class ImportEmployers:
    rows: Sequence[ParsedRow[PlacementRow]]
    """Rows `read_employers_file` has checked."""
    ebp_id: str | None = None


async def import_employers(cmd: ImportEmployers, uow: PlacementsUnitOfWork) -> ImportSummary:
    """Write checked rows in one transaction; announce new or changed contact points.

    Every change to an employer raises its revision, so an announcement carries a higher one
    than the last even when changes in between (a new address) were not announced.
    """
    rows, ebp_id = cmd.rows, cmd.ebp_id
    existing_employers = await uow.catalogue.employers_by_id()
    existing_placements = await uow.catalogue.placements_by_id()
    counts = {"ea": 0, "eu": 0, "pa": 0, "pu": 0, "same": 0}
    done: set[str] = set()
    for parsed in rows:
        employer = _employer_values(parsed.value, ebp_id)
        if employer["id"] not in done:
            done.add(employer["id"])
            before = existing_employers.get(employer["id"])
            if before is None or any(before[k] != v for k, v in employer.items()):
                revision = await uow.catalogue.save_employer(employer)
                counts["ea" if before is None else "eu"] += 1
                if before is None or any(
                    before[k] != employer[k] for k in ("contact_email", "contact_phone")
                ):
                    await uow.emit(
                        EmployerUpserted(
                            employer_id=employer["id"],
                            contact_email=employer["contact_email"],
                            contact_phone=employer["contact_phone"],
                            revision=revision,
                        ),
                        key=employer["id"],
                    )
        placement = _placement_values(parsed.value)
        before_placement = existing_placements.get(placement["id"])
        if before_placement != placement:
            await uow.catalogue.save_placement(placement)
            counts["pa" if before_placement is None else "pu"] += 1
        else:
            counts["same"] += 1
    await uow.commit()
    renamed = sum(parsed.value.sector_renamed for parsed in rows)
    return ImportSummary(
        counts["ea"], counts["eu"], counts["pa"], counts["pu"], counts["same"], renamed
    )


async def export_employers(reads: PlacementsRepositories) -> str:
    """Every imported placement as CSV in the import format (self-found ones are left out)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in await reads.catalogue.imported():
        capacity: dict[str, int] = r["capacity"]
        usual = max(capacity.values(), key=list(capacity.values()).count, default=1)
        writer.writerow(
            {
                "employer_ref": r["reference"],
                "employer_name": r["name"],
                "contact_name": r["contact_name"] or "",
                "contact_email": r["contact_email"] or "",
                "contact_phone": r["contact_phone"] or "",
                "address": r["address"] or "",
                "postcode": r["postcode"] or "",
                "latitude": r["latitude"],
                "longitude": r["longitude"],
                "health_safety_expires": r["health_safety_expires"].isoformat(),
                "insurance_expires": r["insurance_expires"].isoformat(),
                "placement_ref": r["placement_ref"],
                "title": r["title"],
                "sector": r["sector"],
                "weeks": " ".join(
                    week if places == usual else f"{week}:{places}"
                    for week, places in sorted(capacity.items())
                ),
                "capacity_per_week": usual,
                "minimum_age": r["minimum_age"],
                "accessibility": " ".join(r["accessibility"]),
            }
        )
    return out.getvalue()
