"""EBP staff import their own employers: another partnership's references are refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.placements.adapters.orm import employers
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import read_employers_file
from services.placements.application.partnership_import import (
    ImportForPartnership,
    import_for_partnership,
)
from shared.csvimport import CsvImportError
from tests.integration.placements.conftest import EBP, Service

HEADER = (
    "employer_ref,employer_name,postcode,health_safety_expires,insurance_expires,"
    "placement_ref,title,sector,weeks,capacity_per_week\n"
)


def _uow(service: Service) -> PlacementsUnitOfWork:
    return PlacementsUnitOfWork(service.db, producer="placements")


async def _owner(service: Service, reference: str) -> str | None:
    async with service.db.read_session() as s:
        owner: str | None = await s.scalar(
            sa.select(employers.c.ebp_id).where(employers.c.reference == reference)
        )
    return owner


async def test_another_partnerships_references_are_refused_by_line_and_field(
    service: Service,
) -> None:
    rows = read_employers_file(
        HEADER
        + "X-NEW,New Employer,ME14,2029-01-01,2029-01-01,X-P1,Desk,it,2027-W25,2\n"
        + "E-1,Taken Over,ME14,2029-01-01,2029-01-01,X-P2,Desk,it,2027-W25,2\n"
        + "X-NEW2,Another,ME14,2029-01-01,2029-01-01,P-IT,Desk,it,2027-W25,2\n"
    )
    with pytest.raises(CsvImportError) as refused:
        async with _uow(service) as uow:
            await import_for_partnership(ImportForPartnership(rows, "ebp-other"), uow)
    assert [(e.line, e.field) for e in refused.value.errors] == [
        (3, "employer_ref"),
        (4, "placement_ref"),
    ]
    assert await _owner(service, "E-1") == EBP
    assert await _owner(service, "X-NEW") is None, "nothing of a refused file is written"


async def test_a_partnership_updates_its_own_employers(service: Service) -> None:
    rows = read_employers_file(
        HEADER + "E-2,Medway Software Ltd,ME14 5AB,2029-01-01,2029-01-01,P-IT,Junior developer,"
        "it,2027-W25 2027-W26,1\n"
    )
    async with _uow(service) as uow:
        summary = await import_for_partnership(ImportForPartnership(rows, EBP), uow)
    assert summary.employers_updated == 1
    assert await _owner(service, "E-2") == EBP
