"""Build the map page's basemap: China's province outlines from the Digital Chart of the World as GMT
packages it (Debian `gmt-dcw`, LGPL-3+), simplified into a small GeoJSON file in WGS-84.

    python -m geo.basemap [--dcw /usr/share/gmt-dcw/dcw-gmt.nc] [--out var/basemap/provinces.geojson]

bin/web.sh runs it at install time (when the output is missing or older than this module). The service
reads the output (geo/province_outlines.py) and converts it to the system a map asks for at the edge.

DCW-GMT stores each unit as two uint16 arrays `<ISO><CODE>_lon` / `_lat`: a value v means
`min + v / scale` (attributes of the array); a lon of 65535 starts a new ring, its lat is 1 for a hole
(an enclave such as Beijing inside Hebei) and 0 for an outer ring.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.ops import unary_union

DCW_PATH = Path("/usr/share/gmt-dcw/dcw-gmt.nc")
OUT_PATH = Path(__file__).resolve().parents[1] / "var" / "basemap" / "provinces.geojson"
TOLERANCE_DEGREES = 0.02  # ~2 km: invisible at province zoom, outlines are a backdrop, not a boundary service
DIGITS = 4  # ~10 m, far below the tolerance
SEGMENT_MARK = 65535
SOURCE = "DCW-GMT 2.1.1 (Digital Chart of the World for GMT), Debian package gmt-dcw, LGPL-3+"

# ISO 3166-2:CN codes as DCW names them -> the Chinese short name a driver reads.
PROVINCES_ZH = {
    "AH": "安徽", "BJ": "北京", "CQ": "重庆", "FJ": "福建", "GD": "广东", "GS": "甘肃", "GX": "广西",
    "GZ": "贵州", "HA": "河南", "HB": "湖北", "HE": "河北", "HI": "海南", "HK": "香港", "HL": "黑龙江",
    "HN": "湖南", "JL": "吉林", "JS": "江苏", "JX": "江西", "LN": "辽宁", "MO": "澳门", "NM": "内蒙古",
    "NX": "宁夏", "QH": "青海", "SC": "四川", "SD": "山东", "SH": "上海", "SN": "陕西", "SX": "山西",
    "TJ": "天津", "TW": "台湾", "XJ": "新疆", "XZ": "西藏", "YN": "云南", "ZJ": "浙江",
}  # fmt: skip


def decode_rings(lon: np.ndarray, lat: np.ndarray, lon_attrs: Any, lat_attrs: Any) -> list[tuple[bool, Any]]:
    """(is_hole, (n, 2) lon/lat array) per ring of one DCW unit."""
    marks = np.flatnonzero(lon == SEGMENT_MARK)
    x = float(lon_attrs["min"][0]) + lon.astype(np.float64) / float(lon_attrs["scale"][0])
    y = float(lat_attrs["min"][0]) + lat.astype(np.float64) / float(lat_attrs["scale"][0])
    rings = []
    for start, end in zip(marks, [*marks[1:], len(lon)], strict=True):
        if end - start - 1 >= 3:
            rings.append((bool(lat[start] == 1), np.column_stack([x[start + 1 : end], y[start + 1 : end]])))
    return rings


def outline(rings: list[tuple[bool, Any]], tolerance: float) -> MultiPolygon:
    """The unit's area (outer rings less holes), simplified without breaking rings."""
    outer = unary_union([Polygon(r).buffer(0) for hole, r in rings if not hole])
    holes = [Polygon(r).buffer(0) for hole, r in rings if hole]
    area = outer.difference(unary_union(holes)) if holes else outer
    area = area.simplify(tolerance, preserve_topology=True)
    parts = [area] if isinstance(area, Polygon) else [g for g in getattr(area, "geoms", []) if not g.is_empty]
    return MultiPolygon([p for p in parts if isinstance(p, Polygon) and p.area > tolerance * tolerance])


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def build(dcw_path: Path, tolerance: float = TOLERANCE_DEGREES) -> dict[str, Any]:
    """The province FeatureCollection, WGS-84 lon/lat, properties code (ISO 3166-2:CN), name, name_zh."""
    import h5py  # only the install step needs it

    names = _state_names(dcw_path.with_name("dcw-states.txt"))
    features = []
    with h5py.File(dcw_path, "r") as nc:
        for code, name_zh in sorted(PROVINCES_ZH.items()):
            lon_var, lat_var = nc[f"CN{code}_lon"], nc[f"CN{code}_lat"]
            shape = outline(decode_rings(lon_var[:], lat_var[:], lon_var.attrs, lat_var.attrs), tolerance)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": f"CN-{code}", "name": names.get(code, code), "name_zh": name_zh},
                    "geometry": {
                        "type": "MultiPolygon",
                        "coordinates": _rounded(mapping(shape)["coordinates"]),
                    },
                }
            )
    return {"type": "FeatureCollection", "coord": "wgs84", "source": SOURCE, "features": features}


def _state_names(path: Path) -> dict[str, str]:
    names = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[0] == "CN":
                names[parts[1]] = parts[2]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo.basemap", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dcw", type=Path, default=DCW_PATH, help="dcw-gmt.nc (Debian package gmt-dcw)")
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE_DEGREES, help="degrees")
    args = parser.parse_args(argv)
    if not args.dcw.exists():
        print(f"{args.dcw} not found: apt-get install gmt-dcw", file=sys.stderr)
        return 1
    document = build(args.dcw, args.tolerance)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(document))
    tmp.replace(args.out)
    print(f"wrote {len(document['features'])} provinces to {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
