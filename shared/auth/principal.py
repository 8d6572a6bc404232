"""Who is calling, and what they may act for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    ADVISER = "adviser"
    COORDINATOR = "coordinator"
    EBP = "ebp"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """An authenticated user: id, role and the schools (or EBP) they act for.

    A student acts for their own school only; an adviser for the schools they serve; a
    coordinator for their school; EBP staff for the schools of their partnership; an admin
    for everything.
    """

    user_id: str
    role: Role
    school_ids: frozenset[str] = field(default_factory=frozenset)
    ebp_id: str | None = None
    session_id: str | None = None
    expires_at: datetime | None = field(default=None, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def acts_for_school(self, school_id: str) -> bool:
        return self.is_admin or school_id in self.school_ids

    def sees_guidance_at(self, school_id: str) -> bool:
        """Guidance records (appointments, reminders) at a school are for the school's own
        staff and its PAs, and admins; EBP staff act for schools in placements only."""
        return self.role is not Role.EBP and self.acts_for_school(school_id)

    def sees_guidance_of(self, school_id: str, student_id: str) -> bool:
        """A student sees their own guidance records; staff those of the schools above."""
        if self.role is Role.STUDENT:
            return student_id == self.user_id
        return self.sees_guidance_at(school_id)
