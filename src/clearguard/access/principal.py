"""The authenticated principal: who is acting, for which party and office, with which mandates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from clearguard.access.roles import Role


@dataclass(frozen=True, slots=True)
class MandateGrant:
    """A trader's mandate to a broker, valid until the end of `valid_until` (UTC)."""

    trader_eori: str
    valid_from: date
    valid_until: date

    def current(self, today: date) -> bool:
        return self.valid_from <= today <= self.valid_until


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: Role
    party_eori: str | None = None
    office: str | None = None
    mandates: tuple[MandateGrant, ...] = field(default_factory=tuple)
    # When this session last proved a second factor; step-up compares it with the clock.
    mfa_at: datetime | None = None
    session_id: int | None = None

    def mandated_parties(self, today: date) -> frozenset[str]:
        return frozenset(m.trader_eori for m in self.mandates if m.current(today))
