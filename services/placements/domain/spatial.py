"""Finding what lies within a travel limit without measuring every pair.

Points are placed on the unit sphere, where the straight-line (chord) distance between two points
grows with their great-circle distance, so a k-d tree over those 3-D points answers "everything
within ``d`` km" exactly: a chord radius for ``d``, padded by far less than a millimetre, returns a
superset of the points in range, and callers keep the eligibility rules' own distance test for
the final word. The work then grows with the pairs in range, not with people times places.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from services.placements.domain.model import GeoPoint

EARTH_RADIUS_KM = 6371.0088
_PAD = 1e-9
"""Chord padding (about 6 mm on the ground), far above the rounding of the 3-D coordinates."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def unit_vectors(lat_radians: FloatArray, lon_radians: FloatArray) -> FloatArray:
    """Points on the unit sphere, one row per (latitude, longitude) in radians."""
    cos_lat = np.cos(lat_radians)
    return np.column_stack(
        [cos_lat * np.cos(lon_radians), cos_lat * np.sin(lon_radians), np.sin(lat_radians)]
    )


def points_of(points: Sequence[GeoPoint]) -> FloatArray:
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    return unit_vectors(lat, lon).reshape(len(points), 3)


def chord_radius(limit_km: FloatArray) -> FloatArray:
    """Chord length on the unit sphere for each great-circle distance, padded outwards."""
    half_angle = np.minimum(
        math.pi / 2, np.asarray(limit_km, dtype=np.float64) / (2 * EARTH_RADIUS_KM)
    )
    radius: FloatArray = 2 * np.sin(half_angle) + _PAD
    return radius


_LADDER = math.log(1.25)
"""Centres are queried in groups whose radii lie within a factor of 1.25 of each other."""


class PointIndex:
    """A k-d tree over some points; ``near`` lists (centre, point) pairs that may be in range."""

    def __init__(self, points: FloatArray) -> None:
        self._tree = cKDTree(points) if len(points) else None

    def near(self, centres: FloatArray, radii: FloatArray) -> tuple[IntArray, IntArray]:
        """Every (centre row, point row) within that centre's chord radius, in no set order.

        Centres with similar radii are queried together at the largest of them, tree against
        tree, so pairs a little beyond a centre's own radius may be listed too; no Python
        object is made per pair.
        """
        empty = np.zeros(0, dtype=np.int64)
        if self._tree is None or not len(centres):
            return empty, empty
        radii = np.asarray(radii, dtype=np.float64)
        step = np.ceil(np.log(radii / radii.min()) / _LADDER).astype(np.int64)
        rows, points = [empty], [empty]
        for level in np.unique(step).tolist():
            group = np.flatnonzero(step == level)
            found = cKDTree(centres[group]).sparse_distance_matrix(
                self._tree, float(radii[group].max()), output_type="ndarray"
            )
            rows.append(group[found["i"]])
            points.append(found["j"].astype(np.int64))
        return np.concatenate(rows), np.concatenate(points)
