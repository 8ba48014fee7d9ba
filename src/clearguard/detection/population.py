"""The simulated population's world: offices, sites, networks and the people who work in them.

Everything here is made up but shaped like a real administration: offices at ports and airports on
private ranges, a headquarters, a VPN concentrator, residential and business public ranges by city,
and foreign networks that attackers come from. The CIDR table written to locations.csv comes from
here; networks an attacker uses without a listed location (`UNLISTED`) are deliberately missing.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Site:
    """A network with a known place: one row of locations.csv."""

    cidr: str
    city: str
    country: str
    lat: float
    lon: float

    def host(self, rng: random.Random) -> str:
        net = ipaddress.ip_network(self.cidr)
        # skip the network and gateway addresses, and the broadcast address
        return str(net[rng.randrange(2, net.num_addresses - 1)])


@dataclass(frozen=True)
class Office:
    code: str
    site: Site


OFFICES = (
    Office("GB000060", Site("10.20.1.0/24", "Dover", "GB", 51.1279, 1.3134)),
    Office("GB000062", Site("10.20.2.0/24", "Felixstowe", "GB", 51.9617, 1.3513)),
    Office("GB000011", Site("10.20.3.0/24", "London Heathrow", "GB", 51.4700, -0.4543)),
    Office("GB000170", Site("10.20.4.0/24", "Southampton", "GB", 50.9097, -1.4044)),
    Office("GB000093", Site("10.20.5.0/24", "Liverpool", "GB", 53.4084, -2.9916)),
    Office("GB000219", Site("10.20.6.0/24", "Manchester Airport", "GB", 53.3588, -2.2727)),
)
HEADQUARTERS = Site("10.10.0.0/22", "London", "GB", 51.5072, -0.1276)
# Remote staff leave through the concentrator in the London data centre, so a VPN source sits there.
VPN = Site("10.99.0.0/16", "London", "GB", 51.5072, -0.1276)

# Residential broadband by UK city (staff working from home without the VPN, hotels on trips).
HOMES = (
    Site("86.128.0.0/16", "Dover", "GB", 51.1279, 1.3134),
    Site("86.140.0.0/16", "Ipswich", "GB", 52.0567, 1.1482),
    Site("81.96.0.0/16", "London", "GB", 51.5072, -0.1276),
    Site("81.108.0.0/16", "Southampton", "GB", 50.9097, -1.4044),
    Site("82.132.0.0/16", "Liverpool", "GB", 53.4084, -2.9916),
    Site("82.152.0.0/16", "Manchester", "GB", 53.4808, -2.2426),
)
# Where traders and brokers run their businesses.
BUSINESSES = (
    Site("194.72.0.0/16", "London", "GB", 51.5072, -0.1276),
    Site("212.56.64.0/18", "Dover", "GB", 51.1279, 1.3134),
    Site("195.99.0.0/16", "Felixstowe", "GB", 51.9617, 1.3513),
    Site("213.1.0.0/16", "Birmingham", "GB", 52.4862, -1.8904),
    Site("145.53.0.0/16", "Rotterdam", "NL", 51.9244, 4.4777),
    Site("62.159.0.0/16", "Hamburg", "DE", 53.5511, 9.9937),
    Site("81.82.0.0/16", "Antwerp", "BE", 51.2194, 4.4025),
    Site("87.198.0.0/16", "Dublin", "IE", 53.3498, -6.2603),
)
# Places staff travel to on business (conferences, partner administrations): hotel and guest networks.
TRAVEL = (
    Site("91.183.0.0/16", "Brussels", "BE", 50.8503, 4.3517),
    Site("90.84.0.0/16", "Paris", "FR", 48.8566, 2.3522),
    Site("94.210.0.0/16", "Amsterdam", "NL", 52.3676, 4.9041),
    Site("217.86.0.0/16", "Frankfurt", "DE", 50.1109, 8.6821),
    Site("51.9.0.0/16", "Edinburgh", "GB", 55.9533, -3.1883),
    Site("88.27.0.0/16", "Madrid", "ES", 40.4168, -3.7038),
)
# Far networks that attackers come from.
HOSTILE = (
    Site("105.112.0.0/16", "Lagos", "NG", 6.5244, 3.3792),
    Site("95.165.0.0/16", "Moscow", "RU", 55.7558, 37.6173),
    Site("177.32.0.0/16", "Sao Paulo", "BR", -23.5505, -46.6333),
    Site("113.87.0.0/16", "Shenzhen", "CN", 22.5431, 114.0579),
    Site("36.72.0.0/16", "Jakarta", "ID", -6.2088, 106.8456),
    Site("171.224.0.0/16", "Ho Chi Minh City", "VN", 10.8231, 106.6297),
    Site("190.202.0.0/16", "Caracas", "VE", 10.4806, -66.9036),
    Site("5.2.64.0/18", "Bucharest", "RO", 44.4268, 26.1025),
)
# Hosting and anonymising networks with no row in the table: their location is unknown.
UNLISTED = ("45.155.204.0/24", "185.220.101.0/24", "193.142.146.0/24", "146.70.33.0/24")


def location_rows() -> list[Site]:
    """Every network of locations.csv, in a stable order."""
    return [o.site for o in OFFICES] + [HEADQUARTERS, VPN, *HOMES, *BUSINESSES, *TRAVEL, *HOSTILE]


def unlisted_host(rng: random.Random) -> str:
    net = ipaddress.ip_network(rng.choice(UNLISTED))
    return str(net[rng.randrange(2, net.num_addresses - 1)])


# England and Wales bank holidays, which the offices inland keep (border posts run on rotas anyway).
HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25",
        "2026-12-28", "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
    )
)  # fmt: skip

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Edg/131.0 Safari/537.36",
)
SYSTEM_AGENT = "clearguard-client/2.4 (customs-software; +https://broker.example)"


@dataclass
class Person:
    """One account and the habits the simulator gives it."""

    name: str
    role: str
    office: Office | None
    site: Site  # where the account usually works from
    ip: str  # its usual workstation or gateway
    agent: str
    start_h: float  # usual start of the working day, hours UTC
    end_h: float
    weekends: bool  # border rotas, machine clients
    level: float  # how busy: multiplies the role's volumes
    parties: list[str] = field(default_factory=list)  # the parties its work is about
    home: Site | None = None
    system: bool = False  # a machine client (a busy broker's system)
    leave: set[date] = field(default_factory=set)
