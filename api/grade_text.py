"""The OpenAPI pattern of a fuel grade: exactly the spellings geo.grades.normalize_grade accepts.

A grade code (case-insensitive), with `#`, `＃`, `号`, whitespace, 汽油, 柴油 or 乙醇 anywhere around
or inside it: `92`, `92#`, `92号汽油`, `e92`, `0# 柴油`."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Query
from pydantic import Field

from geo.grades import GRADES

_NOISE = r"(?:[#＃号\s]|汽油|柴油|乙醇)*"


def _spelling(code: str) -> str:
    parts = [f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in code]
    return _NOISE + _NOISE.join(parts) + _NOISE


GRADE_PATTERN = "^(?:" + "|".join(_spelling(code) for code in GRADES) + ")$"
GRADE_DESCRIPTION = "fuel grade: " + ", ".join(GRADES) + " (also written 92#, 92号汽油, e92 ...)"
# Documented, not enforced here: normalize_grade refuses the rest as 400 unknown-grade (a slug clients know).
_DOC = {"pattern": GRADE_PATTERN}
GradeText = Annotated[
    str, Field(max_length=16, json_schema_extra=_DOC, description=GRADE_DESCRIPTION, examples=["92"])
]
GradeQuery = Annotated[
    str, Query(max_length=16, json_schema_extra=_DOC, description=GRADE_DESCRIPTION, examples=["92"])
]
OptionalGradeQuery = Annotated[
    str | None,
    Query(max_length=16, json_schema_extra=_DOC, description=GRADE_DESCRIPTION, examples=["92"]),
]
