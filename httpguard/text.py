"""Text a request carries that the service could not store or render: invalid UTF-8 after percent-decoding,
NUL (U+0000: PostgreSQL `text` cannot hold it) and lone surrogates (no UTF-8 encoding exists for them),
in the path, the query string, header values and JSON bodies; and JSON nested deeper than any body of
this service. Each finding is an `errors` item of a problem: {"in", "name", "message"}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

import numpy as np

Finding = dict[str, str]
NUL_MESSAGE = "contains NUL (U+0000), which cannot be stored"
SURROGATE_MESSAGE = "contains a lone surrogate (U+D800..U+DFFF), which has no UTF-8 encoding"
UTF8_MESSAGE = "is not valid UTF-8 after percent-decoding"
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
# JSON escapes that may decode to NUL or to a surrogate (pairs are fine: the walk below decides)
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_BRACKET = bytes(range(256)).translate(None, b"[]{}")


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, or None."""
    found = _BAD_CHAR.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def _decoded(raw: bytes, plus_is_space: bool = True) -> str | None:
    """Percent-decoded UTF-8 text ('+' as a space in a query); None when the bytes are not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ") if plus_is_space else raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def query_findings(raw: bytes) -> list[Finding]:
    """Each query parameter whose name or value does not decode to storable text."""
    found: list[Finding] = []
    for part in raw.split(b"&"):
        if b"%" not in part:  # without escapes: ASCII from the HTTP parser, no NUL
            continue
        raw_name, _, raw_value = part.partition(b"=")
        name = _decoded(raw_name)
        shown = name if name is not None and text_problem(name) is None else raw_name.decode("latin-1")
        for text in (name, _decoded(raw_value)):
            why = UTF8_MESSAGE if text is None else text_problem(text)
            if why is not None:
                found.append({"in": "query", "name": shown, "message": why})
                break
    return found


def path_findings(raw_path: bytes) -> list[Finding]:
    if b"%" not in raw_path:
        return []
    text = _decoded(raw_path, plus_is_space=False)
    why = UTF8_MESSAGE if text is None else text_problem(text)
    return [] if why is None else [{"in": "path", "name": raw_path.decode("latin-1"), "message": why}]


def json_findings(body: bytes) -> list[Finding]:
    """Strings (keys or values) of a JSON body that cannot be stored; [] when the body is not JSON (the
    route's own parser says so)."""
    if not body.isascii():
        try:
            body.decode("utf-8")  # strict: also refuses encoded surrogates (ED A0 80 ...)
        except UnicodeDecodeError as exc:
            return [{"in": "body", "name": "", "message": f"the body is not valid UTF-8 (byte {exc.start})"}]
    if b"\\u" not in body or _SUSPECT_ESCAPE.search(body) is None:
        return []
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return []
    return [{"in": "body", "name": name, "message": why} for name, why in _walk(value, ())]


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        why = text_problem(value)
        if why is not None:
            yield ".".join(path), why
    elif isinstance(value, dict):
        for key, item in value.items():
            why = text_problem(key)
            if why is not None:
                yield ".".join((*path, ascii(key))), f"a member name {why}"
            else:
                yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, str(i)))


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects more than `limit` deep. Linear and cheap (nothing is
    parsed, ~8 ms per MB of brackets and strings); a text that is not JSON may get either answer."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    unescaped = _ESCAPE.sub(b"", body) if b"\\" in body else body
    outside = b"".join(unescaped.split(b'"')[0::2])  # even pieces lie outside strings
    brackets = np.frombuffer(outside.translate(None, _NOT_BRACKET), dtype=np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return bool(steps.size) and int(np.cumsum(steps, dtype=np.int64).max()) > limit
