"""The OpenAPI pattern of `coord=`: the spellings geo.coords.CoordSystem.parse accepts (any case, dashes
anywhere, surrounding whitespace): wgs84, gcj02, bd09, WGS-84 ..."""

from __future__ import annotations

from geo.coords import CoordSystem


def _spelling(code: str) -> str:
    return "-*".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in code)


COORD_PATTERN = r"^\s*-*(?:" + "|".join(_spelling(c.value) for c in CoordSystem) + r")-*\s*$"
