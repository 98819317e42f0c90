"""Distances on the Earth and the search box around a point, for the nearest sites."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min(): rounding can push h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True, slots=True)
class Boite:
    rayon_km: float
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


def boite_englobante(latitude: float, longitude: float, rayon_km: float) -> Boite | None:
    """Latitude and longitude bounds holding every point within `rayon_km` of this one.

    The bounding coordinates of J. P. Matuschek ("Finding Points Within a
    Distance of a Latitude/Longitude Using Bounding Coordinates"), widened a
    little against rounding. None near a pole or across the antimeridian,
    where a simple box would not do.
    """
    angle = rayon_km * 1.001 / EARTH_RADIUS_KM
    lat = math.radians(latitude)
    lat_min, lat_max = lat - angle, lat + angle
    if lat_min <= -math.pi / 2 or lat_max >= math.pi / 2:
        return None
    delta_lon = math.asin(min(1.0, math.sin(angle) / math.cos(lat)))
    lon = math.radians(longitude)
    lon_min, lon_max = lon - delta_lon, lon + delta_lon
    if lon_min < -math.pi or lon_max > math.pi:
        return None
    return Boite(
        rayon_km,
        math.degrees(lat_min),
        math.degrees(lat_max),
        math.degrees(lon_min),
        math.degrees(lon_max),
    )
