"""A route as short straight pieces in earth-centred (ECEF) metres on the WGS-84 ellipsoid.

Between two vertices the route follows the ellipsoid surface: a segment longer than PIECE_M is cut into
equal parts along its chord and each cut point is lifted to the surface along the ellipsoid normal, so
every piece is a chord of at most PIECE_M. A piece sags at most PIECE_M²/8R (2 cm at 1 km) below the
surface, so a distance measured to it in 3-D (then turned from chord to arc, geo.distance) is within
2 cm of the geodesic distance to the route at corridor scales (≤ 5 km; arc vs chord there is < 1 mm).
Distances along the route add up the pieces' lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.distance import WGS84_A, WGS84_E2, chord_to_metres, ecef
from geo.errors import InvalidRoute

PIECE_M = 1_000.0
MAX_ROUTE_M = 1_000_000.0
MAX_VERTICES = 20_000


@dataclass(frozen=True)
class Route:
    """Pieces i = start[i] -> start[i] + step[i] (ECEF metres, components apart so that every distance
    is computed with the same operations in the same order, whichever path asks)."""

    ax: np.ndarray
    ay: np.ndarray
    az: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    dz: np.ndarray
    dd: np.ndarray  # squared chord length of each piece
    length_m: np.ndarray  # each piece's length along the surface
    along_m: np.ndarray  # distance along the route at each piece's start
    total_m: float

    def __post_init__(self) -> None:
        for value in vars(self).values():  # read-only: one route serves many requests (geo.route_cache)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __len__(self) -> int:
        return len(self.dd)

    def vertices(self) -> np.ndarray:
        """(n + 1, 3) ECEF points: each piece's start, then the route's end."""
        starts = np.stack((self.ax, self.ay, self.az), axis=1)
        end = np.array([[self.ax[-1] + self.dx[-1], self.ay[-1] + self.dy[-1], self.az[-1] + self.dz[-1]]])
        return np.concatenate((starts, end))


def geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) in degrees of ECEF points: the surface point below (or above) each."""
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(5):  # converges to < 1e-12 rad for depths of a few hundred km
        sin_lat = np.sin(lat)
        n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        h = p / np.cos(lat) - n
        lat = np.arctan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
    return np.degrees(np.arctan2(y, x)), np.degrees(lat)


def _to_surface(xyz: np.ndarray) -> np.ndarray:
    """Each ECEF point moved along the ellipsoid normal onto the surface (height 0)."""
    return ecef(*geodetic(xyz))


def build_route(lons: np.ndarray, lats: np.ndarray) -> Route:
    """The route through these WGS-84 vertices (repeated consecutive points are dropped). InvalidRoute when
    it has fewer than two distinct points, more than MAX_VERTICES, a coordinate out of range, or is longer
    than MAX_ROUTE_M."""
    if len(lons) > MAX_VERTICES:
        raise InvalidRoute(f"a route has at most {MAX_VERTICES} vertices; this one has {len(lons)}")
    if not (np.isfinite(lons).all() and np.isfinite(lats).all()):
        raise InvalidRoute("route coordinates must be finite numbers")
    if len(lons) and (np.abs(lats).max() > 90.0 or np.abs(lons).max() > 180.0):
        raise InvalidRoute("route coordinates must be longitudes in [-180, 180] and latitudes in [-90, 90]")
    xyz = ecef(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
    if len(xyz):
        moved = np.concatenate(([True], (np.diff(xyz, axis=0) != 0).any(axis=1)))
        xyz = xyz[moved]
    if len(xyz) < 2:
        raise InvalidRoute("a route needs at least two distinct points")
    chords = np.sqrt((np.diff(xyz, axis=0) ** 2).sum(axis=1))
    if float(chord_to_metres(chords).sum()) > MAX_ROUTE_M * 1.01:  # before cutting it into pieces
        raise InvalidRoute(f"a route is at most {MAX_ROUTE_M / 1000:.0f} km long")
    parts = np.maximum(1, np.ceil(chords / PIECE_M)).astype(np.int64)
    seg = np.repeat(np.arange(len(chords)), parts)
    first = np.cumsum(parts) - parts
    frac = (np.arange(int(parts.sum())) - first[seg]) / parts[seg]
    points = xyz[seg] + (xyz[seg + 1] - xyz[seg]) * frac[:, None]
    lifted = frac > 0  # the route's own vertices stay exactly as given
    if lifted.any():
        points[lifted] = _to_surface(points[lifted])
    points = np.concatenate((points, xyz[-1:]))
    step = np.diff(points, axis=0)
    dx, dy, dz = step[:, 0].copy(), step[:, 1].copy(), step[:, 2].copy()
    dd = dx * dx + dy * dy + dz * dz
    length = chord_to_metres(np.sqrt(dd))
    along = np.concatenate(([0.0], np.cumsum(length)[:-1]))
    total = float(length.sum())
    if total > MAX_ROUTE_M:
        raise InvalidRoute(
            f"a route is at most {MAX_ROUTE_M / 1000:.0f} km long; this one is {total / 1000:.1f} km"
        )
    return Route(
        ax=points[:-1, 0].copy(),
        ay=points[:-1, 1].copy(),
        az=points[:-1, 2].copy(),
        dx=dx,
        dy=dy,
        dz=dz,
        dd=dd,
        length_m=length,
        along_m=along,
        total_m=total,
    )


def squared_norms(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """x² + y² + z², in place in x (the arrays are the caller's own, overwritten)."""
    x *= x
    y *= y
    z *= z
    x += y
    x += z
    return x


def nearest_on_pieces(
    route: Route, pieces: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For point j and piece pieces[j] (arrays of equal shape): the chord from the point to the piece's
    nearest point, and the distance along the route of that nearest point. (Each value is
    t = clamp(((p - a) . d) / |d|², 0, 1), chord = |p - a - t d|, along = along(a) + t length; the
    arithmetic runs in place, on arrays of its own, as large temporaries cost more than it does.)"""
    dx, dy, dz = route.dx[pieces], route.dy[pieces], route.dz[pieces]
    vx, vy, vz = px - route.ax[pieces], py - route.ay[pieces], pz - route.az[pieces]
    t = vx * dx
    t += vy * dy
    t += vz * dz
    t /= route.dd[pieces]
    np.clip(t, 0.0, 1.0, out=t)
    dx *= t
    vx -= dx
    dy *= t
    vy -= dy
    dz *= t
    vz -= dz
    chord = np.sqrt(squared_norms(vx, vy, vz), out=vx)
    t *= route.length_m[pieces]
    t += route.along_m[pieces]
    return chord, t
