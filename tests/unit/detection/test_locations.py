"""The CIDR-to-location table: longest prefix, unknown sources, distances, bad rows."""

from __future__ import annotations

import pytest

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.locations import Place, haversine_km, parse_locations
from tests.unit.detection.support import locations


def test_longest_prefix_wins_and_unlisted_is_unknown() -> None:
    table = locations()
    assert len(table) == 5
    assert table.lookup("10.20.1.15").city == "Croydon"  # type: ignore[union-attr]
    assert table.lookup("10.20.2.15").city == "London"  # type: ignore[union-attr]
    assert table.lookup("2001:db8::1").city == "Rotterdam"  # type: ignore[union-attr]
    assert table.lookup("10.99.0.1") is None
    assert table.lookup("not an address") is None
    assert table.lookup(None) is None


def test_haversine_distances() -> None:
    london, paris = Place("London", "GB", 51.5072, -0.1276), Place("Paris", "FR", 48.8566, 2.3522)
    new_york = Place("New York", "US", 40.7128, -74.0060)
    assert haversine_km(london, paris) == pytest.approx(344, abs=2)
    assert haversine_km(london, new_york) == pytest.approx(5570, abs=10)
    assert haversine_km(london, london) == 0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("ip,city\n", "line 1: header must be cidr,city,country,lat,lon"),
        ("cidr,city,country,lat,lon\n10.0.0.0/8,X,GB,51\n", "line 2: expected 5 columns"),
        ("cidr,city,country,lat,lon\n10.0.0.0/33,X,GB,51,0\n", "line 2: cidr: '10.0.0.0/33' is not a network"),
        ("cidr,city,country,lat,lon\n10.0.0.0/8,X,GB,north,0\n", "line 2: lat/lon must be numbers"),
        ("cidr,city,country,lat,lon\n10.0.0.0/8,X,GB,91,0\n", "line 2: lat: must be between -90 and 90"),
        ("cidr,city,country,lat,lon\n\n10.0.0.0/8,X,GB,1,181\n", "line 3: lon: must be between -180 and 180"),
    ],
)
def test_bad_rows_are_refused_with_line_and_field(text: str, needle: str) -> None:
    with pytest.raises(DetectionInputError) as caught:
        parse_locations(text, name="locations.csv")
    assert needle in str(caught.value)
