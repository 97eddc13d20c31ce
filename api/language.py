"""The language of the texts a driver reads: Chinese unless Accept-Language prefers English."""

from __future__ import annotations

from fastapi import Request

from pricing.texts import Language

ACCEPT_LANGUAGE_DOC = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "texts for the driver in Chinese (default) or English (`en`); other values: Chinese",
    "schema": {"type": "string"},
    "example": "zh-CN,zh;q=0.9",
}


def language_of(request: Request) -> Language:
    """The first of zh and en by the header's preference (q, then order); zh when neither is named."""
    return preferred_language(request.headers.get("accept-language", ""))


def preferred_language(accept_language: str) -> Language:
    """language_of for a raw Accept-Language value (middleware that has no Request)."""
    best: tuple[float, int, Language] | None = None
    for index, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if q > 0 and (best is None or (-q, index) < (-best[0], best[1])):
            best = (q, index, "en" if primary == "en" else "zh")
    return best[2] if best is not None else "zh"
