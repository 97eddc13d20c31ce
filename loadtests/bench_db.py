"""The benchmark's databases: one per network size, migrated and holding a demo network; query points."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from sqlalchemy import text

from db.engine import make_engine
from geo.coords import wgs84_to_bd09, wgs84_to_gcj02

ROOT = Path(__file__).resolve().parent.parent
JITTER_M = 3_000.0
METRES_PER_DEGREE = 111_320.0


def size_label(stations: int) -> str:
    """120000 -> '120k', 1000000 -> '1m' (database names and file names)."""
    if stations % 1_000_000 == 0:
        return f"{stations // 1_000_000}m"
    if stations % 1_000 == 0:
        return f"{stations // 1_000}k"
    return str(stations)


def database_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def ensure_database(base: str, name: str) -> bool:
    """Create database `name` unless it exists; True when it was created."""
    engine = make_engine(database_url(base, "postgres"), pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
                return False
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        engine.dispose()


def recreate_database(base: str, name: str) -> str:
    """Drop `name` (closing its connections) and create it empty; its URL."""
    engine = make_engine(database_url(base, "postgres"), pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    return database_url(base, name)


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    command = [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"]
    if subprocess.run(command, cwd=ROOT, env=env, check=False).returncode != 0:
        raise SystemExit(f"alembic upgrade head failed for {url.rsplit('/', 1)[-1]}")


def demo_loader_command() -> list[str]:
    """`stations-demo` when installed, else the same CLI through `python -m demodata.cli`."""
    installed = Path(sys.executable).parent / "stations-demo"
    if installed.exists():
        return [str(installed)]
    if (ROOT / "demodata" / "cli.py").exists():
        return [sys.executable, "-m", "demodata.cli"]
    raise SystemExit("no demo loader: neither stations-demo nor demodata/cli.py exists yet")


def station_count(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM stations")).scalar_one())
    finally:
        engine.dispose()


def load_demo_network(url: str, stations: int) -> None:
    """Fill an empty catalogue with the demo network (the loader's --if-empty leaves a full one alone)."""
    if station_count(url) > 0:
        return
    command = [
        *demo_loader_command(),
        "load",
        "--stations",
        str(stations),
        "--database-url",
        url,
        "--if-empty",
    ]
    done = subprocess.run(command, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the demo loader failed with status {done.returncode}: {' '.join(command)}")
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE stations"))
    finally:
        engine.dispose()


def sample_stations(url: str, count: int, seed: int) -> np.ndarray:
    """(n, 2) lon/lat of up to `count` stations drawn at random (repeatably for one seed and catalogue)."""
    total = station_count(url)
    if total == 0:
        raise SystemExit(f"{url.rsplit('/', 1)[-1]}: the stations table is empty")
    percent = min(100.0, 100.0 * 1.5 * count / total)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT ST_X(geom), ST_Y(geom) FROM stations TABLESAMPLE BERNOULLI (:percent) "
                    "REPEATABLE (:seed)"
                ),
                {"percent": percent, "seed": seed},
            ).all()
    finally:
        engine.dispose()
    points = np.array([tuple(row) for row in rows], dtype=np.float64)
    rng = np.random.default_rng(seed)
    rng.shuffle(points)
    return points[:count]


def request_paths(
    points: np.ndarray,
    seed: int,
    *,
    radius_m: int = 5_000,
    limit: int = 20,
    query: str = "",
    systems_p: tuple[float, float, float] = (0.5, 0.25, 0.25),
) -> list[str]:
    """Nearby request paths around `points` jittered up to 3 km, in WGS-84, GCJ-02 and BD-09 with the
    probabilities `systems_p` (default 1/2, 1/4, 1/4), each ending with `query` (`&grade=92...`)."""
    rng = np.random.default_rng(seed + 1)
    n = len(points)
    distance = JITTER_M * np.sqrt(rng.random(n))
    bearing = rng.random(n) * 2.0 * math.pi
    lat = points[:, 1] + distance * np.cos(bearing) / METRES_PER_DEGREE
    lon = points[:, 0] + distance * np.sin(bearing) / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    systems = np.array(["wgs84", "gcj02", "bd09"])[rng.choice(3, size=n, p=list(systems_p))]
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    out_lon = np.where(systems == "gcj02", glon, np.where(systems == "bd09", blon, lon))
    out_lat = np.where(systems == "gcj02", glat, np.where(systems == "bd09", blat, lat))
    return [
        f"/v1/stations/nearby?lat={y:.6f}&lon={x:.6f}&coord={c}&radius_m={radius_m}&limit={limit}{query}"
        for x, y, c in zip(out_lon, out_lat, systems, strict=True)
    ]


def write_paths(paths: list[str], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(paths) + "\n", encoding="ascii")
    return target
