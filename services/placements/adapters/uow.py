"""Placements' unit of work: `shared.uow.UnitOfWork` with placements' repositories on its
session; and the same repositories over a read-only session, for the queries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.repositories.allocations import (
    AllocationRepository,
    ProblemReads,
    RevisionCounters,
    WithdrawalRepository,
)
from services.placements.adapters.repositories.catalogue import CatalogueRepository
from services.placements.adapters.repositories.choices import PinRepository, PreferenceRepository
from services.placements.adapters.repositories.overview import OverviewReads
from services.placements.adapters.repositories.rounds import DirectoryReads, RoundRepository
from services.placements.adapters.repositories.runs import RunProgressRepository, RunRepository
from services.placements.adapters.repositories.self_found import SelfFoundRepository
from shared.uow import UnitOfWork


class PlacementsRepositories:
    """Placements' repositories over one session, and what the pages read beside them."""

    rounds: RoundRepository
    directory: DirectoryReads
    catalogue: CatalogueRepository
    preferences: PreferenceRepository
    pins: PinRepository
    runs: RunRepository
    allocations: AllocationRepository
    withdrawals: WithdrawalRepository
    problems: ProblemReads
    revisions: RevisionCounters
    self_found: SelfFoundRepository
    overview: OverviewReads
    progress: RunProgressRepository

    def _open_repositories_over(self, session: AsyncSession) -> None:
        self.rounds = RoundRepository(session)
        self.directory = DirectoryReads(session)
        self.catalogue = CatalogueRepository(session)
        self.preferences = PreferenceRepository(session)
        self.pins = PinRepository(session)
        self.runs = RunRepository(session)
        self.allocations = AllocationRepository(session)
        self.withdrawals = WithdrawalRepository(session)
        self.problems = ProblemReads(session)
        self.revisions = RevisionCounters(session)
        self.self_found = SelfFoundRepository(session)
        self.overview = OverviewReads(session)
        self.progress = RunProgressRepository(session)


class PlacementsReads(PlacementsRepositories):
    """The repositories over a read session (`Database.read_session`): nothing to commit."""

    def __init__(self, session: AsyncSession) -> None:
        self._open_repositories_over(session)


class PlacementsUnitOfWork(PlacementsRepositories, UnitOfWork):
    """Each entry opens a new session and the repositories over it."""
