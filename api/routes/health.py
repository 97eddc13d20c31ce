"""Liveness (no I/O) and readiness (database reachable, index loaded)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import EngineDep, IndexDep
from api.errors import problem
from geo import repository

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers (no I/O)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: database reachable and station index loaded")
async def readyz(engine: EngineDep, index: IndexDep) -> Any:
    reasons = []
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
            "loaded_at": index.loaded_at.isoformat() if index.loaded_at else None,
            "load_seconds": index.load_seconds,
        },
    }


__all__ = ["router", "Response"]
