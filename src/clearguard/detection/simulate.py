"""A simulated administration's activity, with injected attacks, for evaluating detection offline.

`simulate(users, days, seed, noise)` builds a population (officers by office and shift, traders, brokers
and their machine clients, risk analysts, auditors, DPOs, admins), lets it work through `days` days
(weekends, bank holidays, leave, overtime, home working over the VPN, business trips, mistyped
passwords, the odd legitimate break-glass and role change) and injects attack scenarios after the
baseline days (`attacks.py`). `write_simulation` writes the issue's three files. The same seed gives
byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.population import (
    BROWSERS,
    BUSINESSES,
    HEADQUARTERS,
    HOLIDAYS,
    HOMES,
    OFFICES,
    SYSTEM_AGENT,
    TRAVEL,
    VPN,
    Office,
    Person,
    Site,
    location_rows,
)

START = date(2026, 3, 2)  # a Monday
BASELINE_DAYS = 14  # no scenario starts inside these (the evaluation's default --baseline-days)
MIN_USERS = 10

# (at, actor, role, office, action, outcome, source_ip, user_agent, record, party, count)
Event = tuple[int, str, str, str | None, str, str, str, str, str | None, str | None, int]


@dataclass(frozen=True)
class Noise:
    """How untidy benign behaviour is."""

    volume_sigma: float  # day-to-day spread of volumes (lognormal)
    hour_jitter: float  # spread of start and end times, hours
    typo: float  # a mistyped password before the login, per working day
    home: float  # working from home, per day
    travel: float  # a business trip day, per day
    overtime: float
    denied: float  # a click on another office's declaration
    weekend_work: float  # a few hours on a weekend, for people without a rota
    export: float  # multiplies the chance of an ordinary export


NOISE = {
    "low": Noise(0.15, 0.25, 0.02, 0.05, 0.003, 0.03, 0.01, 0.0, 0.7),
    "normal": Noise(0.3, 0.5, 0.04, 0.1, 0.01, 0.06, 0.03, 0.01, 1.0),
    "high": Noise(0.5, 1.0, 0.10, 0.2, 0.03, 0.12, 0.08, 0.03, 1.6),
}

ROLE_SHARES = (  # of the human accounts
    ("officer", 0.46),
    ("trader", 0.18),
    ("broker", 0.14),
    ("risk_analyst", 0.09),
    ("auditor", 0.06),
    ("dpo", 0.03),
    ("admin", 0.04),
)


@dataclass
class Simulation:
    events: list[Event]
    labels: list[dict[str, Any]]
    people: list[Person]
    start: date
    days: int


def ts(day: date, hours: float) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + hours * 3600)


def iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_workday(day: date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


class World:
    """The population and the records it works on; every draw comes from one seeded generator."""

    def __init__(self, users: int, days: int, seed: int, noise: Noise) -> None:
        self.rng = random.Random(seed)  # nosec B311: a reproducible simulation
        self.noise = noise
        self.days = days
        self.start = START
        self.events: list[Event] = []
        self.parties = [self._eori("GB") for _ in range(500)] + [self._eori(c) for c in ("NL", "DE", "BE", "IE")
                                                                 for _ in range(40)]  # fmt: skip
        # each office holds the declarations lodged there: its officers work on these
        self.records: dict[str, list[tuple[str, str]]] = {
            o.code: [(self.mrn(o.code), self.rng.choice(self.parties)) for _ in range(1500)] for o in OFFICES
        }
        self.people = self._population(users)

    # identifiers -------------------------------------------------------------------------------------
    def _eori(self, country: str) -> str:
        return country + "".join(self.rng.choices(string.digits, k=12 if country == "GB" else 9))

    def mrn(self, office: str) -> str:
        tail = "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=12))
        return f"26{office[:2]}{tail}{office[-2:]}"

    def office_record(self, office: str) -> tuple[str, str]:
        return self.rng.choice(self.records[office])

    def any_record(self) -> tuple[str, str]:
        return self.office_record(self.rng.choice(OFFICES).code)

    # the population ----------------------------------------------------------------------------------
    def _population(self, users: int) -> list[Person]:
        rng = self.rng
        counts = {role: max(1, round(users * share)) for role, share in ROLE_SHARES}
        counts["officer"] += users - sum(counts.values())
        people: list[Person] = []
        for role, _share in ROLE_SHARES:
            for n in range(1, counts[role] + 1):
                people.append(self._person(role, f"{role.replace('_', '-')}-{n}"))
        # the busiest brokers run a system that lodges through the API all day
        brokers = [p for p in people if p.role == "broker"]
        for broker in brokers[: max(1, len(brokers) // 3)]:
            people.append(
                Person(
                    f"{broker.name}-system", "broker", None, broker.site, broker.site.host(rng), SYSTEM_AGENT,
                    start_h=rng.uniform(5.5, 7.0), end_h=rng.uniform(18.5, 20.5), weekends=rng.random() < 0.5,
                    level=rng.uniform(0.6, 1.6), parties=broker.parties, system=True,
                )
            )  # fmt: skip
        for person in people:
            person.leave = self._leave() if not person.system else set()
        return people

    def _person(self, role: str, name: str) -> Person:
        rng = self.rng
        office: Office | None = None
        weekends = False
        if role == "officer":
            office = rng.choice(OFFICES)
            site = office.site
            shift = rng.random()
            start = 7.0 if shift < 0.7 else 5.0 if shift < 0.85 else 13.0  # day, early, late (UTC)
            end = start + rng.uniform(8.0, 9.0)
            weekends = rng.random() < 0.25  # border posts run rotas
            parties: list[str] = []
        elif role in ("trader", "broker"):
            site = rng.choice(BUSINESSES)
            start, end = rng.uniform(6.5, 8.5), rng.uniform(15.5, 17.5)
            parties = [self._eori(site.country)] if role == "trader" else rng.sample(self.parties, rng.randint(4, 30))
        else:
            site = HEADQUARTERS
            start, end = rng.uniform(7.0, 8.5), rng.uniform(15.5, 17.0)
            parties = []
        return Person(
            name, role, office, site, site.host(rng), rng.choice(BROWSERS), start_h=start, end_h=end,
            weekends=weekends, level=rng.lognormvariate(0.0, 0.35), parties=parties, home=rng.choice(HOMES),
        )  # fmt: skip

    def _leave(self) -> set[date]:
        rng = self.rng
        off: set[date] = set()
        for _ in range(max(1, round(self.days / 60 * 1.5))):
            first = self.start + timedelta(days=rng.randrange(self.days))
            off.update(first + timedelta(days=i) for i in range(rng.randint(1, 5)))
        off.update(self.start + timedelta(days=i) for i in range(self.days) if rng.random() < 0.015)  # sick days
        return off

    # a working day -----------------------------------------------------------------------------------
    def works(self, person: Person, day: date) -> bool:
        if day in person.leave:
            return False
        if person.system:
            return day.weekday() < 5 or (person.weekends and day.weekday() == 5)
        if person.weekends:  # a rota: five days in seven, holidays included
            return self.rng.random() < 5 / 7
        return is_workday(day)

    def emit(self, person: Person, at: int, action: str, outcome: str = "success", *, ip: str | None = None,
             agent: str | None = None, record: str | None = None, party: str | None = None, count: int = 1) -> None:
        office = person.office.code if person.office else None
        self.events.append((at, person.name, person.role, office, action, outcome, ip or person.ip,
                            agent or person.agent, record, party, count))  # fmt: skip

    def volume(self, base: float, person: Person) -> int:
        value = base * person.level * self.rng.lognormvariate(0.0, self.noise.volume_sigma)
        return max(0, int(value + self.rng.random()))

    def day_of(self, person: Person, day: date, *, short: bool = False) -> None:
        rng, noise = self.rng, self.noise
        start = person.start_h + rng.gauss(0.0, noise.hour_jitter / 2)
        end = person.end_h + rng.gauss(0.0, noise.hour_jitter / 2)
        if rng.random() < noise.overtime:
            end += rng.uniform(1.0, 3.0)
        scale = 1.0
        if short:  # a few hours at the weekend
            start, end, scale = rng.uniform(9.0, 14.0), 0.0, 0.25
            end = start + rng.uniform(1.0, 3.0)
        ip = person.ip
        if not person.system:
            draw = rng.random()
            if draw < noise.travel:
                ip = rng.choice(TRAVEL).host(rng)
            elif draw < noise.travel + noise.home:
                ip = VPN.host(rng) if person.office or person.site is HEADQUARTERS or rng.random() < 0.3 else (
                    person.home or person.site).host(rng)  # fmt: skip
        t0, t1 = ts(day, start), ts(day, end)
        self.session(person, t0, t1, ip)
        span = (t0 + 120, t1)
        getattr(self, "work_" + person.role)(person, day, span, ip, scale)

    def session(self, person: Person, t0: int, t1: int, ip: str) -> None:
        rng = self.rng
        at = t0
        if person.system:
            self.emit(person, at, "auth.login", ip=ip)
            every = 900
        else:
            if rng.random() < self.noise.typo:
                for _ in range(1 if rng.random() < 0.8 else 2):
                    self.emit(person, at, "auth.login", "failure", ip=ip)
                    at += rng.randint(4, 40)
            self.emit(person, at, "auth.login", ip=ip)
            at += rng.randint(5, 40)
            if rng.random() < self.noise.typo / 3:
                self.emit(person, at, "auth.mfa", "failure", ip=ip)
                at += rng.randint(10, 40)
            self.emit(person, at, "auth.mfa", ip=ip)
            every = 3600
        at += every
        while at < t1:
            self.emit(person, at + rng.randint(0, 120), "auth.refresh", ip=ip)
            at += every

    def spread(self, span: tuple[int, int], n: int) -> list[int]:
        lo, hi = span
        return sorted(self.rng.randint(lo, max(lo, hi)) for _ in range(n))

    def work_officer(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng, noise = self.rng, self.noise
        assert p.office is not None
        office = p.office.code
        reads = self.volume(30 * scale, p)
        seen: list[tuple[str, str]] = []
        for at in self.spread(span, reads):
            record, party = self.office_record(office)
            seen.append((record, party))
            self.emit(p, at, "declaration.read", ip=ip, record=record, party=party)
        for at in self.spread(span, int(reads * rng.uniform(0.25, 0.5))):
            record, party = rng.choice(seen)
            self.emit(p, at, "declaration.decide", ip=ip, record=record, party=party)
        for at in self.spread(span, self.volume(4 * scale, p)):
            self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(5, 60))
        if rng.random() < 0.04 * noise.export:
            self.emit(p, rng.randint(*span), "declaration.export", ip=ip, count=rng.randint(20, 150))
        if rng.random() < noise.denied:
            record, party = self.office_record(rng.choice([o.code for o in OFFICES if o.code != office]))
            self.emit(p, rng.randint(*span), "declaration.read", "denied", ip=ip, record=record, party=party)
        if rng.random() < 0.004:  # a legitimate break-glass: an urgent case at a neighbouring office
            at = rng.randint(*span)
            other = rng.choice([o.code for o in OFFICES if o.code != office])
            self.emit(p, at, "access.breakglass", ip=ip, record=None)
            for i in range(rng.randint(1, 3)):
                record, party = self.office_record(other)
                self.emit(p, at + 60 * (i + 1) + rng.randint(0, 50), "declaration.read", ip=ip, record=record,
                          party=party)  # fmt: skip

    def work_trader(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng = self.rng
        party = p.parties[0]
        lodged: list[str] = []
        for at in self.spread(span, self.volume(6 * scale, p)):
            record = self.mrn(rng.choice(OFFICES).code)
            lodged.append(record)
            self.emit(p, at, "declaration.lodge", ip=ip, record=record, party=party)
        self._own_reads(p, span, ip, lodged, [party], 8 * scale)

    def work_broker(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng = self.rng
        lodged: list[str] = []
        base = 120 if p.system else 12
        for at in self.spread(span, self.volume(base * scale, p)):
            record = self.mrn(rng.choice(OFFICES).code)
            lodged.append(record)
            self.emit(p, at, "declaration.lodge", ip=ip, record=record, party=rng.choice(p.parties))
        if p.system:  # status polling: steady reads and lists
            for at in self.spread(span, len(lodged) // 2):
                self.emit(p, at, "declaration.read", ip=ip, record=rng.choice(lodged), party=rng.choice(p.parties))
            at = span[0]
            while at < span[1]:
                self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(20, 200))
                at += 1800
            return
        self._own_reads(p, span, ip, lodged, p.parties, 14 * scale)

    def _own_reads(self, p: Person, span: tuple[int, int], ip: str, lodged: list[str], parties: list[str],
                   reads: float) -> None:  # fmt: skip
        rng, noise = self.rng, self.noise
        mine = lodged or [self.mrn(rng.choice(OFFICES).code) for _ in range(5)]
        for at in self.spread(span, self.volume(reads, p)):
            self.emit(p, at, "declaration.read", ip=ip, record=rng.choice(mine), party=rng.choice(parties))
        for at in self.spread(span, self.volume(3, p)):
            self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(3, 50))
        if lodged and rng.random() < 0.2:
            self.emit(p, rng.randint(*span), "declaration.amend", ip=ip, record=rng.choice(lodged),
                      party=rng.choice(parties))  # fmt: skip
        if rng.random() < 0.04 * noise.export:
            self.emit(p, rng.randint(*span), "declaration.export", ip=ip, count=rng.randint(20, 250))

    def work_risk_analyst(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng, noise = self.rng, self.noise
        for at in self.spread(span, self.volume(20 * scale, p)):
            record, party = self.any_record()
            self.emit(p, at, "declaration.read", ip=ip, record=record, party=party)
        for at in self.spread(span, self.volume(8 * scale, p)):
            self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(50, 500))
        for at in self.spread(span, rng.randint(0, 3)):
            record, party = self.any_record()
            self.emit(p, at, "risk.override", ip=ip, record=record, party=party)
        if rng.random() < 0.15 * noise.export:  # the weekly extract for a targeting profile
            self.emit(p, rng.randint(*span), "declaration.export", ip=ip, count=rng.randint(100, 900))

    def work_auditor(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng, noise = self.rng, self.noise
        for at in self.spread(span, self.volume(5 * scale, p)):
            self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(20, 200))
        for at in self.spread(span, self.volume(8 * scale, p)):
            record, party = self.any_record()
            self.emit(p, at, "declaration.read", ip=ip, record=record, party=party)
        if rng.random() < 0.08 * noise.export:
            self.emit(p, rng.randint(*span), "declaration.export", ip=ip, count=rng.randint(50, 500))

    def work_dpo(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng, noise = self.rng, self.noise
        for at in self.spread(span, self.volume(3 * scale, p)):
            record, party = self.any_record()
            self.emit(p, at, "declaration.read", ip=ip, record=record, party=party)
        for at in self.spread(span, self.volume(2 * scale, p)):
            self.emit(p, at, "declaration.list", ip=ip, count=rng.randint(5, 80))
        if rng.random() < 0.05 * noise.export:
            self.emit(p, rng.randint(*span), "declaration.export", ip=ip, count=rng.randint(10, 100))

    def work_admin(self, p: Person, day: date, span: tuple[int, int], ip: str, scale: float) -> None:
        rng = self.rng
        staff = [q for q in self.people if not q.system]
        if rng.random() < 0.3:
            self.emit(p, rng.randint(*span), "account.create", ip=ip, record=f"new-{rng.randrange(10**6):06d}")
        if rng.random() < 0.12:  # a legitimate change of duties
            self.emit(p, rng.randint(*span), "account.role_change", ip=ip, record=rng.choice(staff).name)
        if rng.random() < 0.08:
            self.emit(p, rng.randint(*span), "account.disable", ip=ip, record=rng.choice(staff).name)
        if rng.random() < 0.08:
            self.emit(p, rng.randint(*span), "key.operation", ip=ip)

    def benign(self) -> None:
        for i in range(self.days):
            day = self.start + timedelta(days=i)
            for person in self.people:
                if self.works(person, day):
                    self.day_of(person, day)
                elif not person.system and not person.weekends and day.weekday() >= 5 and (
                        self.rng.random() < self.noise.weekend_work):  # fmt: skip
                    self.day_of(person, day, short=True)


def simulate(users: int, days: int, seed: int, noise: str = "normal") -> Simulation:
    if users < MIN_USERS:
        raise DetectionInputError(f"users: must be at least {MIN_USERS} (one of each role)", field="users")
    if days <= BASELINE_DAYS:
        raise DetectionInputError(
            f"days: must be more than {BASELINE_DAYS} (the baseline days come first, attacks after)", field="days"
        )
    if noise not in NOISE:
        raise DetectionInputError(f"noise: must be one of {', '.join(NOISE)}", field="noise")
    from clearguard.detection.attacks import inject

    world = World(users, days, seed, NOISE[noise])
    world.benign()
    labels = inject(world, BASELINE_DAYS)
    world.events.sort(key=lambda e: e[0])  # stable: ties keep the order they were made in
    return Simulation(world.events, labels, world.people, world.start, days)


KEYS = ("at", "actor", "role", "office", "action", "outcome", "source_ip", "user_agent", "record", "party", "count")


def event_line(event: Event) -> str:
    row: dict[str, Any] = dict(zip(KEYS, event, strict=True))
    row["at"] = iso(event[0])
    return json.dumps(row, separators=(",", ":"))


def locations_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("cidr", "city", "country", "lat", "lon"))
    for site in location_rows():
        writer.writerow((site.cidr, site.city, site.country, f"{site.lat:.4f}", f"{site.lon:.4f}"))
    return out.getvalue()


def write_simulation(sim: Simulation, out: Path) -> dict[str, Any]:
    """DIR/events.jsonl, DIR/labels.json, DIR/locations.csv; returns a summary."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "events.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for event in sim.events:
            f.write(event_line(event) + "\n")
    (out / "labels.json").write_text(json.dumps(sim.labels, indent=1) + "\n", encoding="utf-8")
    (out / "locations.csv").write_text(locations_csv(), encoding="utf-8")
    kinds: dict[str, int] = {}
    for label in sim.labels:
        kinds[label["kind"]] = kinds.get(label["kind"], 0) + 1
    return {"events": len(sim.events), "actors": len(sim.people), "days": sim.days, "scenarios": len(sim.labels),
            "per_kind": kinds, "out": str(out)}  # fmt: skip


def site_of(ip: str) -> Site | None:
    """The listed network holding `ip` (tests and attacks use it to reason about distances)."""
    import ipaddress

    address = ipaddress.ip_address(ip)
    for site in location_rows():
        if address in ipaddress.ip_network(site.cidr):
            return site
    return None
