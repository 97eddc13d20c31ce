"""A reader's position in the log as an opaque string: 'c1.<seq>.<id>'.

(seq, id) means: every transaction before seq has been read, and of transaction seq the rows up to id.
A transaction read to its end is written (seq + 1, 0), so a cursor names the next transaction it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"c1\.([0-9]{1,19})\.([0-9]{1,19})")
_MAX = 2**63 - 1


class InvalidCursor(ValueError):
    """The string is not a cursor this package wrote."""


@dataclass(frozen=True, order=True)
class Cursor:
    seq: int
    id: int

    def __str__(self) -> str:
        return f"c1.{self.seq}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _SHAPE.fullmatch(text)
        if match is None:
            raise InvalidCursor(f"not a change-log cursor: {text!r}")
        seq, id_ = int(match[1]), int(match[2])
        if seq < 1 or seq > _MAX or id_ > _MAX:
            raise InvalidCursor(f"change-log cursor out of range: {text!r}")
        return cls(seq, id_)

    @classmethod
    def after(cls, seq: int) -> Cursor:
        """The cursor of a reader that has read transaction `seq` (and all before it) to the end."""
        return cls(seq + 1, 0)


# Everything the log has ever held: a reader starting here after a prune is told to resync.
BEGINNING = str(Cursor(1, 0))
