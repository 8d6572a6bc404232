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


STAFF_ROLES = frozenset({Role.ADVISER, Role.COORDINATOR, Role.EBP, Role.ADMIN})


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

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def acts_for_school(self, school_id: str) -> bool:
        return self.is_admin or school_id in self.school_ids
