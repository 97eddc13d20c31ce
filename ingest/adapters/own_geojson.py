"""The project's own GeoJSON format: a FeatureCollection of Points with the CSV columns as properties.

Features are decoded one by one so each keeps the line where it starts (for rejects); a syntax error
rejects the rest of the file from the line of the error, since JSON cannot be resynchronised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.fields import record_from_fields
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _features(text: str) -> tuple[dict[str, Any], list[tuple[int, int, Any]], tuple[int, str] | None]:
    """Top-level members other than features, [(start, end, feature)], and the first syntax error."""
    top: dict[str, Any] = {}
    found: list[tuple[int, int, Any]] = []
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        raise SourceError("GeoJSON must be a FeatureCollection object")
    pos = _skip(text, pos + 1)
    try:
        while pos < len(text) and text[pos] != "}":
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if not text.startswith(":", pos):
                return top, found, (pos, "expected ':'")
            pos = _skip(text, pos + 1)
            if key == "features" and text.startswith("[", pos):
                pos = _skip(text, pos + 1)
                while not text.startswith("]", pos):
                    value, end = _DECODER.raw_decode(text, pos)
                    found.append((pos, end, value))
                    pos = _skip(text, end)
                    if text.startswith(",", pos):
                        pos = _skip(text, pos + 1)
                    elif not text.startswith("]", pos):
                        return top, found, (pos, "expected ',' or ']' between features")
                pos += 1
            else:
                top[key], pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
    except json.JSONDecodeError as exc:
        return top, found, (exc.pos, exc.msg)
    return top, found, None


def _point(feature: Any) -> tuple[dict[str, Any], Any, Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise BadRow("unparsable feature: not a GeoJSON Feature object")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise BadRow("unparsable feature: geometry must be a Point")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise BadRow("unparsable feature: Point needs [lon, lat]")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise BadRow("unparsable feature: properties must be an object")
    return props, coords[0], coords[1]


def read(path: Path) -> Iterator[Item]:
    text = path.read_text(encoding="utf-8-sig")
    top, found, error = _features(text)
    if top.get("type", "FeatureCollection") != "FeatureCollection":
        raise SourceError("GeoJSON must be a FeatureCollection")
    default_coord = top.get("coord") if isinstance(top.get("coord"), str) else ""
    for start, end, feature in found:
        line, raw = _line(text, start), text[start:end]
        try:
            props, lon, lat = _point(feature)
            yield Parsed(line, record_from_fields(props, lon, lat, str(default_coord)), raw)
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
    if error is not None:
        pos, msg = error
        line = _line(text, pos)
        rest = text[pos:].splitlines()
        yield Reject(
            line, f"unparsable JSON: {msg}; the rest of the file is skipped", rest[0] if rest else ""
        )
