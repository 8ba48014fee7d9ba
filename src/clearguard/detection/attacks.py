"""Attack scenarios injected into a simulated population, each with its label.

Every kind draws its own parameters (volumes, pace, timing, whether it succeeds, where it comes from)
around and across the thresholds a detector might use, so that a detector tuned to one shape misses
the others. None starts inside the baseline days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from clearguard.detection.population import BROWSERS, HOSTILE, OFFICES, VPN, Person, unlisted_host
from clearguard.detection.simulate import World, iso, is_workday, ts

TOOLS = ("python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64) Hydra")
KINDS = (
    "brute_force",
    "password_spraying",
    "stolen_credentials",
    "insider_bulk_read",
    "slow_exfiltration",
    "privilege_abuse",
    "off_hours_export",
)


class Injector:
    def __init__(self, world: World, first_day: int) -> None:
        self.world = world
        self.rng = world.rng
        self.first_day = first_day
        self.humans = [p for p in world.people if not p.system]
        self.used: set[str] = set()  # one scenario per actor, so labels do not overlap

    def pick(self, roles: tuple[str, ...]) -> Person:
        pool = [p for p in self.humans if p.role in roles and p.name not in self.used]
        pool = pool or [p for p in self.humans if p.role in roles] or self.humans
        person = self.rng.choice(pool)
        self.used.add(person.name)
        return person

    def day(self, person: Person | None = None, *, last: int = 0, workday: bool = True) -> date:
        """A day after the baseline (leaving `last` days after it), preferably a working one of `person`."""
        world = self.world
        days = [world.start + timedelta(days=i) for i in range(self.first_day, max(self.first_day + 1, world.days - last))]
        if workday:
            fitting = [d for d in days if is_workday(d) and (person is None or d not in person.leave)]
            days = fitting or days
        return self.rng.choice(days)

    def label(self, kind: str, n: int, actors: list[str], sources: list[str], times: list[int]) -> dict[str, Any]:
        return {"scenario": f"{kind}-{n}", "kind": kind, "actors": sorted(set(actors)),
                "sources": sorted(set(sources)), "start": iso(min(times)), "end": iso(max(times))}  # fmt: skip

    def attacker_ip(self, *, listed: float = 0.5) -> str:
        return self.rng.choice(HOSTILE).host(self.rng) if self.rng.random() < listed else unlisted_host(self.rng)

    # the kinds ---------------------------------------------------------------------------------------
    def brute_force(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        victim = self.pick(("officer", "trader", "broker", "risk_analyst", "auditor", "dpo", "admin"))
        sources = [self.attacker_ip()]
        if rng.random() < 0.2:  # rotating through a few addresses
            sources += [self.attacker_ip() for _ in range(rng.randint(1, 3))]
        agent = rng.choice(TOOLS + BROWSERS)
        at = ts(self.day(workday=False), rng.uniform(0, 23.5))
        times = []
        pace = (0.5, 6.0) if rng.random() < 0.6 else (6.0, 13.0)
        for _ in range(rng.randint(10, 70)):
            world.emit(victim, at, "auth.login", "failure", ip=rng.choice(sources), agent=agent)
            times.append(at)
            at += max(1, round(rng.uniform(*pace)))
        if rng.random() < 0.3:  # the password is guessed; the second factor stops it
            ip = rng.choice(sources)
            world.emit(victim, at, "auth.login", ip=ip, agent=agent)
            for _ in range(rng.randint(1, 3)):
                at += rng.randint(5, 30)
                world.emit(victim, at, "auth.mfa", "failure", ip=ip, agent=agent)
            times.append(at)
        return self.label("brute_force", n, [victim.name], sources, times)

    def password_spraying(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        ip, agent = self.attacker_ip(), rng.choice(TOOLS)
        targets = rng.sample(self.humans, min(len(self.humans), rng.randint(6, 25)))
        guessed = ["admin", "administrator", "test", "j.smith", "customs", "helpdesk"]
        names = [p.name for p in targets] + rng.sample(guessed, rng.randint(0, 3))
        at = ts(self.day(workday=False), rng.uniform(0, 23.5))
        window = rng.uniform(60, 540)  # all inside ten minutes
        attempts = sorted((at + round(rng.uniform(0, window)), name) for name in names for _ in range(rng.randint(1, 2)))
        by_name = {p.name: p for p in targets}
        for when, name in attempts:
            person = by_name.get(name) or Person(name, "unknown", None, VPN, ip, agent, 0, 0, False, 1.0)
            world.emit(person, when, "auth.login", "failure", ip=ip, agent=agent)
        times = [when for when, _ in attempts]
        return self.label("password_spraying", n, [p.name for p in targets], [ip], times)

    def stolen_credentials(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        victim = self.pick(("officer", "trader", "broker", "risk_analyst"))
        ip = rng.choice(HOSTILE).host(rng)
        agent = rng.choice(TOOLS[:3] + BROWSERS)
        day = self.day(victim)
        hour = rng.uniform(victim.start_h + 1, victim.end_h - 1) if rng.random() < 0.6 else rng.uniform(19.0, 27.0)
        at = ts(day, hour)
        first = at
        if rng.random() < 0.3:
            world.emit(victim, at, "auth.login", "failure", ip=ip, agent=agent)
            at += rng.randint(10, 60)
        world.emit(victim, at, "auth.login", ip=ip, agent=agent)
        at += rng.randint(5, 60)
        world.emit(victim, at, "auth.mfa", ip=ip, agent=agent)
        office = victim.office.code if victim.office else None
        for _ in range(rng.randint(12, 150)):
            at += rng.randint(5, 60)
            record, party = world.office_record(office) if office else world.any_record()
            if victim.role in ("trader", "broker"):
                party = rng.choice(victim.parties)
            world.emit(victim, at, "declaration.read", ip=ip, agent=agent, record=record, party=party)
        for _ in range(rng.randint(0, 4)):
            at += rng.randint(5, 120)
            world.emit(victim, at, "declaration.list", ip=ip, agent=agent, count=rng.randint(20, 200))
        if rng.random() < 0.5:
            at += rng.randint(30, 300)
            world.emit(victim, at, "declaration.export", ip=ip, agent=agent, count=rng.randint(50, 600))
        return self.label("stolen_credentials", n, [victim.name], [ip], [first, at])

    def insider_bulk_read(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        insider = self.pick(("officer",) * 4 + ("risk_analyst",))
        day = self.day(insider)
        usual = 30 if insider.role == "officer" else 20
        reads = max(120, round(usual * insider.level * rng.uniform(3.0, 9.0)))
        start = ts(day, rng.uniform(insider.start_h + 0.5, insider.end_h - 2))
        hours = rng.uniform(0.5, 4.0)
        office = insider.office.code if insider.office else None
        times = sorted(start + round(rng.uniform(0, hours * 3600)) for _ in range(reads))
        for at in times:
            record, party = world.office_record(office) if office else world.any_record()
            world.emit(insider, at, "declaration.read", record=record, party=party)
        if rng.random() < 0.4:
            world.emit(insider, times[-1] + 60, "declaration.list", count=rng.randint(200, 1000))
            times.append(times[-1] + 60)
        return self.label("insider_bulk_read", n, [insider.name], [insider.ip], times)

    def slow_exfiltration(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        actor = self.pick(("officer", "officer", "risk_analyst", "broker"))
        weeks = rng.randint(2, 4)
        # it runs its weeks inside the simulation when the simulation is long enough
        first = self.day(actor, last=min(world.days - self.first_day - 1, 7 * weeks))
        last_day = min(first + timedelta(days=7 * weeks), world.start + timedelta(days=world.days - 1))
        usual = {"officer": 30, "risk_analyst": 20, "broker": 14}[actor.role] * actor.level
        extra_share = rng.uniform(0.25, 0.7)
        times: list[int] = []
        office = actor.office.code if actor.office else None
        day = first
        while day <= last_day:
            if is_workday(day) and day not in actor.leave:
                lo, hi = ts(day, actor.start_h + 0.3), ts(day, actor.end_h - 0.3)
                for _ in range(max(2, round(usual * extra_share * rng.uniform(0.7, 1.3)))):
                    at = rng.randint(lo, hi)
                    record, party = world.office_record(office) if office else world.any_record()
                    world.emit(actor, at, "declaration.read", record=record, party=party)
                    times.append(at)
                if rng.random() < 0.8:
                    at = rng.randint(lo, hi)
                    world.emit(actor, at, "declaration.export", count=rng.randint(15, 90))
                    times.append(at)
            day += timedelta(days=1)
        if not times:  # on leave the whole time: one day's worth anyway
            at = ts(first, 10.0)
            world.emit(actor, at, "declaration.export", count=40)
            times.append(at)
        return self.label("slow_exfiltration", n, [actor.name], [actor.ip], times)

    def privilege_abuse(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        admin = self.pick(("admin",))
        accomplice = admin if rng.random() < 0.4 else self.pick(("officer", "auditor", "dpo"))
        day = self.day(admin)
        at = ts(day, rng.uniform(admin.start_h + 0.5, admin.end_h - 1.5))
        times = [at]
        world.emit(admin, at, "account.role_change", record=accomplice.name)
        if rng.random() < 0.4:
            at += rng.randint(20, 300)
            world.emit(admin, at, "account.role_change", record=accomplice.name)
        at += rng.randint(60, 3600)
        world.emit(accomplice, at, "access.breakglass")
        own = accomplice.office.code if accomplice.office else None
        offices = [o.code for o in OFFICES if o.code != own]
        for _ in range(rng.randint(10, 150)):
            at += rng.randint(5, 90)
            record, party = world.office_record(rng.choice(offices))
            world.emit(accomplice, at, "declaration.read", record=record, party=party)
        if rng.random() < 0.4:
            at += rng.randint(30, 600)
            world.emit(accomplice, at, "declaration.export", count=rng.randint(50, 1000))
        times.append(at)
        return self.label("privilege_abuse", n, [admin.name, accomplice.name], [admin.ip, accomplice.ip], times)

    def off_hours_export(self, n: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        actor = self.pick(("officer", "trader", "broker", "risk_analyst", "auditor"))
        if rng.random() < 0.7 or actor.weekends:  # the small hours of a weekday
            at = ts(self.day(actor), rng.uniform(0.0, max(0.5, actor.start_h - 3.0)))
        else:  # a weekend afternoon
            weekend = [d for d in (self.day(workday=False) for _ in range(20)) if d.weekday() >= 5]
            at = ts(weekend[0] if weekend else self.day(workday=False), rng.uniform(10.0, 20.0))
        ip = VPN.host(rng) if actor.office or rng.random() < 0.5 else actor.ip
        first = at
        world.emit(actor, at, "auth.login", ip=ip)
        at += rng.randint(5, 40)
        world.emit(actor, at, "auth.mfa", ip=ip)
        for _ in range(rng.randint(0, 3)):
            at += rng.randint(20, 300)
            world.emit(actor, at, "declaration.list", ip=ip, count=rng.randint(50, 500))
        for _ in range(rng.randint(1, 4)):
            at += rng.randint(30, 600)
            world.emit(actor, at, "declaration.export", ip=ip, count=rng.randint(150, 5000))
        return self.label("off_hours_export", n, [actor.name], [ip], [first, at])


def inject(world: World, first_day: int) -> list[dict[str, Any]]:
    """Several scenarios of each kind (about one per kind per 2,400 user-days), after the baseline."""
    injector = Injector(world, first_day)
    per_kind = max(1, round(len(injector.humans) * world.days / 2400))
    labels = []
    for kind in KINDS:
        make: Callable[[int], dict[str, Any]] = getattr(injector, kind)
        labels += [make(n) for n in range(1, per_kind + 1)]
    return labels
