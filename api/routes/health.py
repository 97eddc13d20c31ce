"""Liveness (no I/O) and readiness (database reachable, index loaded)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.checked_route import CheckedRoute
from api.deps import EngineDep, IndexDep
from api.errors import problem
from api.instants import instant_text
from api.problems import problem_responses
from api.services import ServicesDep
from db.read_routing import ReadRouting
from geo import repository

router = APIRouter(tags=["health"], route_class=CheckedRoute)


class Health(BaseModel):
    status: Literal["ok"]


class IndexState(BaseModel):
    stations: int
    catalogue_version: int
    loaded_at: str | None
    load_seconds: float | None


class ChangeLogState(BaseModel):
    """How far this worker is behind the change log (api/live_changes.py)."""

    applied_seq: int
    head_seq: int
    behind_seconds: float
    max_behind_seconds: float
    reloads: int
    worker: int  # this worker's process id (a keep-alive connection stays with one worker)
    applied_changes: int
    fetch_seconds: float  # reading the log and the changed rows, since start
    apply_seconds: float  # patching the live state on the event loop, since start


class ReplicaState(BaseModel):
    """Where this worker's start-up loads and change-log reads go (db/read_routing.py). Not a readiness
    condition: without a usable replica every read goes to the primary."""

    configured: bool  # STATIONS_REPLICA_URL is set
    in_use: bool  # the last read went to the replica
    available: bool  # configured and not in the back-off after a failure
    lag_seconds: float | None  # upper bound of the replica's replay lag at the last check (None: unknown)
    lag_bytes: int | None  # WAL the replica had not replayed at the last check
    replay_paused: bool | None
    max_lag_seconds: float  # past it, reads go to the primary
    replica_reads: int
    primary_reads: int
    fallbacks: int  # reads that went to the primary while a replica was configured (lag or failure)
    failures: int  # replica failures seen, each followed by a back-off
    last_error: str | None  # the exception type of the last failure


class Readiness(BaseModel):
    status: Literal["ready"]
    index: IndexState
    change_log: ChangeLogState | None
    replica: ReplicaState


@router.get(
    "/healthz",
    operation_id="getHealth",
    summary="Liveness: the process answers (no I/O)",
    response_model=Health,
    responses=problem_responses(),
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness: database reachable and station index loaded",
    response_model=Readiness,
    responses=problem_responses({503: ["not-ready"]}),
)
async def readyz(engine: EngineDep, index: IndexDep, services: ServicesDep) -> Any:
    reasons = []
    follower = services.changes
    if follower is not None and follower.behind_seconds() > follower.max_behind_s:
        reasons.append(f"{follower.behind_seconds():.0f} s behind the change log")
    try:
        await run_in_threadpool(repository.ping, engine)
    except Exception as exc:
        reasons.append(f"database unreachable: {type(exc).__name__}")
    if not index.ready:
        reasons.append("station index not loaded")
    if reasons:
        return problem(503, "not-ready", "Not ready", "; ".join(reasons), "/readyz", reasons=reasons)
    snap = index.snapshot
    return {
        "status": "ready",
        "index": {
            "stations": len(snap),
            "catalogue_version": snap.version,
            "loaded_at": instant_text(index.loaded_at) if index.loaded_at else None,
            "load_seconds": index.load_seconds,
        },
        "change_log": follower.state() if follower is not None else None,
        "replica": (services.reads or ReadRouting(engine)).state(),
    }


__all__ = ["router", "Response"]
