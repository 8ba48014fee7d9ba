"""The locations table: networks (CIDR) to places, from CSV `cidr,city,country,lat,lon`.

A source in no listed network has an unknown location. Lookup takes the longest matching prefix,
so a /24 inside a listed /16 can say where a branch office is. Pure but for `load_locations`.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import math
from dataclasses import dataclass
from pathlib import Path

from clearguard.detection.errors import DetectionInputError
from clearguard.errors import InputError
from clearguard.user_files import read_limited

EARTH_RADIUS_KM = 6371.0088
HEADER = ("cidr", "city", "country", "lat", "lon")
MAX_FILE_BYTES = 64 * 1024 * 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    country: str
    lat: float
    lon: float


def haversine_km(a: Place, b: Place) -> float:
    """Great-circle distance between two places, in km."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Locations:
    """Networks to places; lookup by longest prefix (one dict probe per prefix length in use)."""

    def __init__(self, entries: list[tuple[Network, Place]]) -> None:
        self._by_version: dict[int, dict[int, dict[int, Place]]] = {4: {}, 6: {}}
        for network, place in entries:
            table = self._by_version[network.version].setdefault(network.prefixlen, {})
            table[int(network.network_address)] = place
        self._lengths = {v: sorted(t, reverse=True) for v, t in self._by_version.items()}
        self._cache: dict[str, Place | None] = {}

    def __len__(self) -> int:
        return sum(len(t) for by_len in self._by_version.values() for t in by_len.values())

    def lookup(self, ip: str | None) -> Place | None:
        if ip is None:
            return None
        if ip in self._cache:
            return self._cache[ip]
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        bits = 32 if address.version == 4 else 128
        value = int(address)
        found: Place | None = None
        tables = self._by_version[address.version]
        for length in self._lengths[address.version]:
            mask = ((1 << length) - 1) << (bits - length) if length else 0
            place = tables[length].get(value & mask)
            if place is not None:
                found = place
                break
        if len(self._cache) < 100_000:
            self._cache[ip] = found
        return found


def parse_locations(text: str, *, name: str = "locations") -> Locations:
    """The table from CSV text; DetectionInputError naming the line and field of a bad row."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise DetectionInputError(f"{name}: line 1: header must be {','.join(HEADER)}", field="locations")
    entries: list[tuple[Network, Place]] = []
    for row in reader:
        lineno = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            raise DetectionInputError(f"{name}: line {lineno}: expected 5 columns, got {len(row)}", field="locations")
        cidr, city, country, lat_text, lon_text = (c.strip() for c in row)
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise DetectionInputError(
                f"{name}: line {lineno}: cidr: {cidr[:40]!r} is not a network", field="cidr"
            ) from None
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise DetectionInputError(f"{name}: line {lineno}: lat/lon must be numbers", field="lat") from None
        if not (-90.0 <= lat <= 90.0):
            raise DetectionInputError(f"{name}: line {lineno}: lat: must be between -90 and 90", field="lat")
        if not (-180.0 <= lon <= 180.0):
            raise DetectionInputError(f"{name}: line {lineno}: lon: must be between -180 and 180", field="lon")
        entries.append((network, Place(city=city, country=country, lat=lat, lon=lon)))
    return Locations(entries)


def load_locations(path: Path) -> Locations:
    try:
        raw = read_limited(path, max_bytes=MAX_FILE_BYTES, setting="the locations table limit")
    except InputError as exc:
        raise DetectionInputError(str(exc), field="locations") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DetectionInputError(f"{path.name}: not UTF-8 (byte {exc.start})", field="locations") from None
    return parse_locations(text, name=path.name)
