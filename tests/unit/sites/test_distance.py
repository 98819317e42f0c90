"""Great-circle distances between contact points."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sites.services.proximite import EARTH_RADIUS_KM, boite_englobante, distance_km

TOULOUSE = (43.604462, 1.444247)
PARIS = (48.856614, 2.352222)
SAINT_DENIS_REUNION = (-20.882057, 55.450675)


def test_toulouse_paris_is_about_588_km() -> None:
    assert distance_km(*TOULOUSE, *PARIS) == pytest.approx(588, rel=0.01)


def test_paris_saint_denis_de_la_reunion_is_about_9_370_km() -> None:
    assert distance_km(*PARIS, *SAINT_DENIS_REUNION) == pytest.approx(9370, rel=0.01)


def test_one_degree_of_latitude_is_about_111_km_and_a_point_is_at_zero_from_itself() -> None:
    assert distance_km(43.0, 1.0, 44.0, 1.0) == pytest.approx(111.2, abs=0.1)
    assert distance_km(*TOULOUSE, *TOULOUSE) == 0.0


def test_distance_is_symmetric_and_handles_antipodes_and_the_antimeridian() -> None:
    assert distance_km(*TOULOUSE, *PARIS) == pytest.approx(distance_km(*PARIS, *TOULOUSE))
    assert distance_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(20015.1, abs=0.5)
    assert distance_km(0.0, 179.9, 0.0, -179.9) == pytest.approx(22.2, abs=0.1)


def test_sorting_by_distance_puts_the_nearest_town_first() -> None:
    towns = {
        "Paris": PARIS,
        "Muret": (43.4614, 1.3264),
        "Montauban": (44.0176, 1.3550),
        "Colomiers": (43.6112, 1.3350),
    }

    ordered = sorted(towns, key=lambda name: distance_km(*TOULOUSE, *towns[name]))

    assert ordered == ["Colomiers", "Muret", "Montauban", "Paris"]


def _destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point reached from (lat, lon) going `km` along the initial `bearing` (degrees)."""
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    delta = km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


@given(
    lat=st.floats(-85, 85),
    lon=st.floats(-179, 179),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
    rayon_km=st.floats(0.5, 300),
)
def test_the_search_box_holds_every_point_within_its_radius(
    lat: float, lon: float, bearing: float, fraction: float, rayon_km: float
) -> None:
    box = boite_englobante(lat, lon, rayon_km)
    if box is None:
        return
    lat2, lon2 = _destination(lat, lon, bearing, rayon_km * fraction)

    assert distance_km(lat, lon, lat2, lon2) <= rayon_km * 1.0001
    assert box.lat_min <= lat2 <= box.lat_max
    assert box.lon_min <= lon2 <= box.lon_max


def test_the_search_box_is_about_the_radius_wide_in_france() -> None:
    box = boite_englobante(*TOULOUSE, 30.0)

    assert box is not None
    assert distance_km(box.lat_min, 1.444247, box.lat_max, 1.444247) == pytest.approx(60, rel=0.01)
    assert box.lon_max - box.lon_min == pytest.approx(0.742, abs=0.005)


def test_there_is_no_search_box_near_a_pole_or_across_the_antimeridian() -> None:
    assert boite_englobante(89.9, 0.0, 30.0) is None
    assert boite_englobante(-13.3, 179.95, 30.0) is None  # near Wallis-et-Futuna
    assert boite_englobante(-13.3, -179.95, 30.0) is None
