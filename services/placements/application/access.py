"""Who may see or change what in an allocation round.

EBP staff manage the rounds of their own partnership; an admin manages every round. A
coordinator sees their own school's part of a round, read-only; a student sees only their own
preferences and allocation. Anyone else is told the round does not exist, so that the rounds of
another partnership are not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.placements.application.errors import NotFound, PlacementsError
from services.placements.application.ports import RoundRecord
from shared.auth.principal import Principal, Role


class Forbidden(PlacementsError):
    kind = "forbidden"


@dataclass(frozen=True)
class RoundAccess:
    """What one caller may do in one round."""

    principal: Principal
    round: RoundRecord
    manages: bool

    @property
    def school_ids(self) -> frozenset[str] | None:
        """The schools whose records the caller may read; None means every school."""
        if self.manages:
            return None
        return frozenset(s for s in self.principal.school_ids if self.round.includes_school(s))

    def require_manager(self) -> None:
        if not self.manages:
            raise Forbidden("Only the round's EBP staff may do this.")

    def require_student_record(self, student_id: str, school_id: str | None) -> None:
        """The caller may read this student's records in the round."""
        if self.manages:
            return
        if self.principal.role is Role.STUDENT:
            if student_id != self.principal.user_id:
                raise Forbidden("A student may see only their own records.")
            return
        if school_id is None or school_id not in (self.school_ids or ()):
            raise NotFound("No such student in this round.")


def manages_round(principal: Principal, round_: RoundRecord) -> bool:
    if principal.is_admin:
        return True
    return principal.role is Role.EBP and principal.ebp_id == round_.ebp_id


def round_access(principal: Principal, round_: RoundRecord | None) -> RoundAccess:
    if round_ is None:
        raise NotFound("No such allocation round.")
    if manages_round(principal, round_):
        return RoundAccess(principal, round_, manages=True)
    if principal.role in (Role.STUDENT, Role.COORDINATOR) and any(
        round_.includes_school(s) for s in principal.school_ids
    ):
        return RoundAccess(principal, round_, manages=False)
    raise NotFound("No such allocation round.")
