"""Per-nozzle event logs ordered by seq, and the state of a position at an event time.

A nozzle's state at `as_of` is the state of its highest-seq event with `ts <= as_of` (late events slot in
by seq). A vehicle's session on a position starts when a nozzle leaves `idle` (or a new transaction starts
right after `completed`) and ends when every nozzle of the position is back in `idle`/`offline`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from occupancy.events import OCCUPIED, NozzleState

_IDLE = NozzleState.IDLE
_COMPLETED = NozzleState.COMPLETED
STATE_OF = tuple(NozzleState)  # a log keeps each event's state as one byte: its index here
CODE_OF = {state: code for code, state in enumerate(STATE_OF)}
_OCCUPIED_CODES = frozenset(CODE_OF[s] for s in OCCUPIED)
_COMPLETED_CODE = CODE_OF[_COMPLETED]
_OFFLINE = NozzleState.OFFLINE
_FUELING = NozzleState.FUELING
_PRE = frozenset({NozzleState.CALLING, NozzleState.AUTHORIZED})
HEARTBEAT_SPAN_S = 600.0  # coalesced heartbeats of a session leave no silence longer than this
CONTEXT_S = 900.0  # sessions() reads this far before its window to know whether a position was free


class NozzleLog:
    """Events of one nozzle in seq order (parallel arrays: 8-byte seqs and times, shared state members);
    `monotone` while ts never decreases with seq.

    Only recent events are kept (`prune_before`); the run and state the oldest kept event belongs to may
    have begun earlier, so their start times are carried (`run0`, `state0`). `folded_seq` is how far the
    book's day summaries have read this nozzle, `phase` the running state of that reading."""

    __slots__ = (
        "coalesced_to",
        "folded_seq",
        "monotone",
        "phase",
        "pruned_seq",
        "run0",
        "seqs",
        "state0",
        "states",
        "tss",
    )

    def __init__(self) -> None:
        self.seqs = array("q")
        self.tss = array("d")
        self.states = bytearray()  # codes: STATE_OF[code]
        self.monotone = True
        self.pruned_seq = -1  # events at or below this seq were dropped: late ones are ignored
        self.run0: float | None = None  # start of the run of the oldest kept event, when pruned
        self.state0: float | None = None  # when the oldest kept event's state began, when pruned
        self.folded_seq = -1  # events up to this seq were read into the day summaries
        self.phase = PhaseFold()
        self.coalesced_to = float("-inf")  # heartbeats before this were coalesced

    def add(self, seq: int, ts: float, state: NozzleState) -> bool:
        """Insert an event; False when this seq was seen before (or is older than the retained history)."""
        seqs = self.seqs
        if not seqs or seq > seqs[-1]:
            if seq <= self.pruned_seq:
                return False
            if seqs and ts < self.tss[-1]:
                self.monotone = False
            seqs.append(seq)
            self.tss.append(ts)
            self.states.append(CODE_OF[state])
            return True
        i = bisect_left(seqs, seq)
        if seqs[i] == seq or seq <= self.pruned_seq:
            return False
        if (i > 0 and ts < self.tss[i - 1]) or ts > self.tss[i]:
            self.monotone = False
        if i == 0:
            self.run0 = self.state0 = None
        seqs.insert(i, seq)
        self.tss.insert(i, ts)
        self.states.insert(i, CODE_OF[state])
        return True

    def state_at(self, i: int) -> NozzleState:
        return STATE_OF[self.states[i]]

    def index_at(self, as_of: float) -> int:
        """Index of the highest-seq event with ts <= as_of, or -1."""
        tss = self.tss
        if self.monotone:
            return bisect_right(tss, as_of) - 1
        for i in range(len(tss) - 1, -1, -1):
            if tss[i] <= as_of:
                return i
        return -1

    def run_start(self, i: int) -> float:
        """Event time the current state class (session / idle / offline) began, for the event at index i."""
        states, tss = self.states, self.tss
        cur = states[i]
        j = i
        if cur in _OCCUPIED_CODES:
            while j > 0:
                prev = states[j - 1]
                if prev not in _OCCUPIED_CODES or (prev == _COMPLETED_CODE and states[j] != _COMPLETED_CODE):
                    break
                j -= 1
        else:
            while j > 0 and states[j - 1] == cur:
                j -= 1
        return tss[j] if j or self.run0 is None else self.run0

    def state_start(self, i: int) -> float:
        """Event time the nozzle entered the state of the event at index i (repeats are heartbeats)."""
        states = self.states
        j = i
        while j > 0 and states[j - 1] == states[i]:
            j -= 1
        return self.tss[j] if j or self.state0 is None else self.state0

    def phases(self, start: float, end: float) -> list[tuple[NozzleState, float]]:
        """Durations of the phases of a transaction that ended in [start, end): (state left, seconds), for
        calling/authorized -> fueling (as CALLING), fueling -> completed, completed -> idle; only over
        consecutive seqs (a gap may hide other states)."""
        lo = bisect_left(self.tss, start - 3600.0) if self.monotone else 0
        fold = PhaseFold()
        out: list[tuple[NozzleState, float]] = []
        for i in range(lo, len(self.tss)):
            t = self.tss[i]
            found = fold.feed(self.seqs[i], STATE_OF[self.states[i]], t)
            if found is not None and start <= t < end:
                out.append(found)
        return out

    def coalesce_before(self, cutoff: float) -> None:
        """Drop the heartbeats before `cutoff` that lie inside a run of their state (the first and the
        last of each run stay): what the state was and since when is unchanged, and heartbeats are most of
        a controller's events. In a session the kept ones stay less than HEARTBEAT_SPAN_S apart, far
        below the silence after which a session counts as stuck."""
        if not self.monotone:
            return
        seqs, tss, states = self.seqs, self.tss, self.states
        hi = bisect_left(tss, cutoff) - 1  # the last one before cutoff stays in any case
        lo = max(1, bisect_left(tss, self.coalesced_to))
        if hi <= lo:
            return
        keep: list[int] = []
        kept_ts = tss[lo - 1]
        for i in range(lo, hi):
            state = states[i]
            if (
                states[i - 1] == state
                and states[i + 1] == state
                and (state not in _OCCUPIED_CODES or tss[i + 1] - kept_ts < HEARTBEAT_SPAN_S)
            ):
                continue
            keep.append(i)
            kept_ts = tss[i]
        if len(keep) < hi - lo:
            self.seqs = seqs[:lo] + array("q", [seqs[i] for i in keep]) + seqs[hi:]
            self.tss = tss[:lo] + array("d", [tss[i] for i in keep]) + tss[hi:]
            self.states = states[:lo] + bytes(states[i] for i in keep) + states[hi:]
        self.coalesced_to = max(self.coalesced_to, cutoff)

    def prune_before(self, cutoff: float) -> None:
        """Drop events older than `cutoff`, keeping the last one before it (the state carried forward)
        and the start of its run and state."""
        if not self.monotone:
            return
        k = bisect_left(self.tss, cutoff) - 1
        if k <= 0:
            return
        self.run0, self.state0 = self.run_start(k), self.state_start(k)
        self.pruned_seq = self.seqs[k - 1]
        del self.seqs[:k], self.tss[:k], self.states[:k]


class PhaseFold:
    """The phase durations of one nozzle's events read in seq order, one event at a time: what
    `NozzleLog.phases` measures, kept as a running state so the day summaries need no old events."""

    __slots__ = ("entered", "last", "pre_start")

    def __init__(self) -> None:
        self.last: tuple[int, NozzleState, float] | None = None
        self.entered = 0.0
        self.pre_start = 0.0

    def feed(self, seq: int, state: NozzleState, t: float) -> tuple[NozzleState, float] | None:
        last = self.last
        self.last = (seq, state, t)
        if last is None:
            self.entered = self.pre_start = t
            return None
        prev_seq, prev, _prev_t = last
        consecutive = seq - prev_seq == 1
        if state in _PRE and not (prev in _PRE and consecutive):
            self.pre_start = t
        if prev is state:
            return None
        found: tuple[NozzleState, float] | None = None
        if consecutive:
            if state is _FUELING and prev in _PRE:
                found = (NozzleState.CALLING, t - self.pre_start)
            elif (prev is _FUELING and state is _COMPLETED) or (prev is _COMPLETED and state is _IDLE):
                found = (prev, t - self.entered)
        self.entered = t
        return found


@dataclass(frozen=True, slots=True)
class PositionState:
    """A position's state from its nozzles at one event time (before claims and staleness)."""

    status: str  # "free" | "occupied" | "offline" | "unknown" (never reported)
    nozzle_state: NozzleState | None
    since: float | None
    grade: str | None  # grade of the nozzle in use (occupied)
    last_ts: float | None  # latest event time among its nozzles <= as_of
    phase_since: float | None = None  # occupied: when the nozzle in use entered its current state


_RANK = {
    _OFFLINE: 0,
    _IDLE: 1,
    NozzleState.CALLING: 2,
    NozzleState.AUTHORIZED: 3,
    NozzleState.FUELING: 4,
    _COMPLETED: 5,
}


def position_state(nozzles: list[tuple[str, NozzleLog]], as_of: float, stuck_after_s: float) -> PositionState:
    """Combine the nozzles of a position. An occupied nozzle silent for longer than `stuck_after_s`
    counts as idle (its closing event was lost); when several nozzles look occupied the latest session
    wins."""
    best: NozzleState | None = None
    occ_since: float | None = None
    occ_grade: str | None = None
    occ_phase: float | None = None
    free_since: float | None = None
    off_since: float | None = None
    any_idle = False
    last_ts: float | None = None
    for grade, log in nozzles:
        i = log.index_at(as_of)
        if i < 0:
            continue
        state = STATE_OF[log.states[i]]
        ts = log.tss[i]
        if last_ts is None or ts > last_ts:
            last_ts = ts
        if best is None or _RANK[state] > _RANK[best]:
            best = state
        if state in OCCUPIED:
            if as_of - ts > stuck_after_s:
                any_idle = True
                free_since = ts if free_since is None else max(free_since, ts)
                continue
            start = log.run_start(i)
            if occ_since is None or start > occ_since:
                occ_since, occ_grade, occ_phase = start, grade, log.state_start(i)
        elif state is _IDLE:
            any_idle = True
            start = log.run_start(i)
            free_since = start if free_since is None else max(free_since, start)
        else:
            start = log.run_start(i)
            off_since = start if off_since is None else max(off_since, start)
    if best is None:
        return PositionState("unknown", None, None, None, None)
    if occ_since is not None:
        return PositionState("occupied", best, occ_since, occ_grade, last_ts, occ_phase)
    if any_idle:
        since = free_since if off_since is None or free_since is None else max(free_since, off_since)
        return PositionState("free", best, since, None, last_ts)
    return PositionState("offline", best, off_since, None, last_ts)


@dataclass(frozen=True, slots=True)
class Session:
    position: int
    start: float
    end: float | None  # None: still open at the window's end
    grade: str | None
    gap_before: float | None  # free time on this position before the session (None: unknown)


class PositionFold:
    """The sessions of one position from its nozzles' events merged in time order, one event at a time
    (the running state of `sessions`); `feed` returns the session an event closed, if any."""

    __slots__ = ("cur", "free_since", "last_state", "last_ts", "occupied", "position", "stuck_after_s")

    def __init__(self, position: int, stuck_after_s: float) -> None:
        self.position = position
        self.stuck_after_s = stuck_after_s
        self.occupied: dict[int, float] = {}  # nozzle -> ts of its latest occupied event
        self.last_state: dict[int, NozzleState] = {}
        self.cur: tuple[float, str, float | None] | None = None  # (start, grade, gap before)
        self.free_since: float | None = None
        self.last_ts = float("-inf")

    def feed(self, ts: float, n: int, state: NozzleState, grade: str, out: list[Session]) -> None:
        occupied, cur = self.occupied, self.cur
        if occupied and cur is not None:
            latest = max(occupied.values())
            if ts - latest > self.stuck_after_s:  # the closing events were lost
                occupied.clear()
                out.append(Session(self.position, cur[0], latest, cur[1], cur[2]))
                cur, self.free_since = None, latest
        if state in OCCUPIED:
            new_txn = self.last_state.get(n) is _COMPLETED and state is not _COMPLETED
            if cur is not None and new_txn:
                out.append(Session(self.position, cur[0], ts, cur[1], cur[2]))
                cur = (ts, grade, 0.0)
            occupied[n] = ts
            if cur is None:
                cur = (ts, grade, None if self.free_since is None else ts - self.free_since)
        else:
            occupied.pop(n, None)
            if not occupied:
                if cur is not None:
                    out.append(Session(self.position, cur[0], ts, cur[1], cur[2]))
                    cur, self.free_since = None, ts
                elif self.free_since is None:
                    self.free_since = ts
        self.last_state[n] = state
        self.cur = cur
        self.last_ts = ts


def sessions(
    position: int, nozzles: list[tuple[str, NozzleLog]], start: float, end: float, stuck_after_s: float
) -> list[Session]:
    """Sessions of a position starting in [start, end], from events with ts <= end (looking back a little
    before `start` to know whether the position was free and since when)."""
    merged: list[tuple[float, int, NozzleState, str]] = []
    for n, (grade, log) in enumerate(nozzles):
        tss, states = log.tss, log.states
        if log.monotone:  # ts sorted: the events in [start - CONTEXT_S, end] and the one before them
            lo, hi = max(0, bisect_left(tss, start - CONTEXT_S) - 1), bisect_right(tss, end)
            codes = [STATE_OF[c] for c in states[lo:hi]]
            merged.extend(zip(tss[lo:hi], [n] * (hi - lo), codes, [grade] * (hi - lo), strict=True))
            continue
        for i in range(len(tss)):
            ts = tss[i]
            if ts <= end:
                merged.append((ts, n, STATE_OF[states[i]], grade))
    merged.sort(key=lambda e: e[0])
    fold = PositionFold(position, stuck_after_s)
    out: list[Session] = []
    for ts, n, state, grade in merged:
        fold.feed(ts, n, state, grade, out)
    cur = fold.cur
    if cur is not None:
        out.append(Session(position, cur[0], None, cur[1], cur[2]))
    return [s for s in out if s.start >= start]
