"""Pure rules around the catalogue: ISO weeks, postcode districts, scarcity, import rows."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.placements.adapters.postcode_districts import (
    centre_of,
    coordinates,
    district_of,
    normalise_postcode,
)
from services.placements.adapters.repository import youngest_birth_date
from services.placements.application.employers import PlacementRow
from services.placements.domain.model import GeoPoint, Placement, Preference
from services.placements.domain.scarcity import SCARCE_RATIO, demand_and_supply
from services.placements.domain.sectors import sector_slug
from services.placements.domain.weeks import InvalidWeek, iso_week, monday_of, normalise

pytestmark = pytest.mark.unit

JUNE = date(2027, 6, 21)


def test_an_iso_week_is_its_monday_and_back() -> None:
    assert monday_of("2027-W25") == JUNE
    assert iso_week(JUNE) == "2027-W25"
    assert iso_week(date(2027, 6, 25)) == "2027-W25"
    assert monday_of("2026-W53") == date(2026, 12, 28)


@pytest.mark.parametrize("bad", ["2027-W60", "2027-25", "W25", "2027-W00", "2027-w25"])
def test_weeks_that_do_not_exist_are_refused(bad: str) -> None:
    with pytest.raises(InvalidWeek):
        monday_of(bad)


def test_weeks_are_sorted_without_repeats() -> None:
    assert normalise(["2027-W26", "2027-W25", "2027-W26"]) == ["2027-W25", "2027-W26"]


@pytest.mark.parametrize(
    ("postcode", "district"),
    [
        ("ME14 1XX", "ME14"),
        ("me14 1xx", "ME14"),
        ("CT9", "CT9"),
        ("TN231AB", "TN23"),
        ("DA11  0BB", "DA11"),
        ("not a postcode", None),
        ("", None),
    ],
)
def test_the_district_is_the_outward_code(postcode: str, district: str | None) -> None:
    assert district_of(postcode) == district


def test_every_kent_and_medway_district_has_a_centre_in_the_county() -> None:
    kent = [f"CT{n}" for n in range(1, 22)] + [f"ME{n}" for n in range(1, 21)]
    kent += [f"DA{n}" for n in (1, 2, 3, 4, 9, 10, 11, 12, 13)]
    kent += [f"TN{n}" for n in (*range(1, 5), *range(8, 19), *range(23, 31))]
    for district in kent:
        centre = centre_of(district)
        assert centre is not None, district
        assert 50.9 < centre.latitude < 51.55 and 0.0 < centre.longitude < 1.45, district
    assert centre_of("ZZ9") is None


def test_postcodes_are_kept_upper_case_with_single_spaces() -> None:
    assert normalise_postcode("  me14   1xx ") == "ME14 1XX"


def test_coordinates_given_win_over_the_district_centre() -> None:
    centre = centre_of("ME14")
    assert centre is not None
    assert coordinates(51.3, 0.5, "ME14") == (51.3, 0.5)
    assert coordinates(None, None, "ME14") == (centre.latitude, centre.longitude)
    assert coordinates(51.3, None, "ME14") == (centre.latitude, centre.longitude)
    assert coordinates(None, None, "ZZ9") is None
    assert coordinates(None, None, None) is None


def test_the_youngest_possible_birthday_keeps_minimum_ages_safe() -> None:
    # Year 10 in 2026/27 were born between 1 September 2011 and 31 August 2012.
    assert youngest_birth_date(10, JUNE) == date(2012, 8, 31)
    assert youngest_birth_date(10, date(2026, 9, 7)) == date(2012, 8, 31)
    assert youngest_birth_date(12, JUNE) == date(2010, 8, 31)


def _placement(pid: str, sector: str, places: int, expiry: date = date(2028, 1, 1)) -> Placement:
    return Placement(
        id=pid,
        employer_id=f"E-{pid}",
        sector=sector,
        location=GeoPoint(51.28, 0.53),
        capacity={JUNE: places},
        minimum_age=14,
        access_features=frozenset(),
        health_and_safety_expiry=expiry,
        insurance_expiry=expiry,
    )


def test_demand_counts_each_student_once_per_option_and_lapsed_places_are_not_supply() -> None:
    catalogue = [
        _placement("H1", "health", 1),
        _placement("H2", "health", 2),
        _placement("H3", "health", 5, expiry=date(2027, 1, 1)),
        _placement("R1", "retail", 4),
    ]
    stated = [
        [Preference.for_placement("H1"), Preference.for_sector("health")],
        [Preference.for_sector("health")],
        [Preference.for_placement("H1")],
        [Preference.for_sector("retail"), Preference.for_sector("law")],
        [Preference.for_placement("H1")],
        [Preference.for_sector("health")],
    ]
    sectors, placements = demand_and_supply(catalogue, [JUNE], date(2026, 12, 1), stated)
    assert (sectors["health"].places, sectors["health"].demand) == (3, 5)
    assert sectors["health"].ratio == round(5 / 3, 2)
    assert not sectors["health"].scarce
    assert placements["H1"].demand == 3 and placements["H1"].scarce
    assert placements["H1"].demand >= SCARCE_RATIO * placements["H1"].places
    assert placements["H3"].places == 0 and placements["H3"].scarce
    assert sectors["law"].places == 0 and sectors["law"].ratio is None
    assert not sectors["retail"].scarce


ROW = {
    "employer_ref": "E-1",
    "employer_name": "Firm",
    "health_safety_expires": "2028-01-01",
    "insurance_expires": "2028-01-01",
    "placement_ref": "P-1",
    "title": "Clerk",
    "sector": "law",
    "weeks": "2027-W25 2027-W26:3",
    "capacity_per_week": "2",
    "postcode": "me14 1aa",
}


def test_a_row_gives_capacity_per_week_with_overrides() -> None:
    row = PlacementRow.model_validate(ROW)
    assert row.capacity() == {"2027-W25": 2, "2027-W26": 3}
    assert row.postcode == "ME14 1AA"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postcode": None}, "(row)"),
        ({"postcode": "ZZ9 9ZZ"}, "postcode"),
        ({"latitude": "51.2"}, "(row)"),
        ({"weeks": "2027-W25 2027-W25:2"}, "weeks"),
        ({"weeks": "2027-W25:0"}, "weeks"),
        ({"sector": "Health Care"}, "sector"),
        ({"accessibility": "Step Free"}, "accessibility"),
        ({"contact_phone": "01622 123456"}, "contact_phone"),
    ],
)
def test_a_bad_row_names_the_field(change: dict[str, str | None], field: str) -> None:
    data = {k: v for k, v in {**ROW, **change}.items() if v is not None}
    with pytest.raises(ValidationError) as raised:
        PlacementRow.model_validate(data)
    locations = [".".join(str(p) for p in e["loc"]) or "(row)" for e in raised.value.errors()]
    assert field in locations


def test_coordinates_from_the_file_make_an_unknown_district_acceptable() -> None:
    row = PlacementRow.model_validate(
        {**ROW, "postcode": "ZZ9 9ZZ", "latitude": "51.2", "longitude": "0.5"}
    )
    assert (row.latitude, row.longitude) == (51.2, 0.5)


@pytest.mark.parametrize(
    ("written", "slug"),
    [
        ("Hair & Beauty", "hair_and_beauty"),
        ("hair and beauty", "hair_and_beauty"),
        ("  Animal   Care ", "animal_care"),
        ("IT", "it"),
        ("Public-Services", "public_services"),
        ("animal_care", "animal_care"),
        ("Plumbing", None),
        ("Hair Beauty", None),
    ],
)
def test_sector_names_are_read_to_the_known_slugs(written: str, slug: str | None) -> None:
    assert sector_slug(written) == slug
