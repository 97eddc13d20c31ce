"""What the one command tells the locust process, through its environment (the only place it is read)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PREFIX = "PEAK_"


@dataclass(frozen=True, slots=True)
class RunConfig:
    plan: Path
    out: Path
    scale: float
    duration_s: float
    seed: int
    window_s: float
    run_epoch_s: int  # the run's start, whole seconds: forecourt seq numbers start above every earlier run's
    ordercore_url: str
    ordercore_token: str
    driver_key: str
    operator_token: str
    order_share: float  # share of driver journeys that end in an order
    partner_key: str
    warmup_s: float  # the run's first seconds, left out of the per-route figures (recorder.Recorder)

    def environ(self) -> dict[str, str]:
        return {f"{PREFIX}{name.upper()}": str(getattr(self, name)) for name in self.__dataclass_fields__}

    @classmethod
    def from_environ(cls, env: dict[str, str] | None = None) -> RunConfig:
        e = dict(os.environ if env is None else env)

        def get(name: str) -> str:
            return e[f"{PREFIX}{name.upper()}"]

        return cls(
            plan=Path(get("plan")),
            out=Path(get("out")),
            scale=float(get("scale")),
            duration_s=float(get("duration_s")),
            seed=int(get("seed")),
            window_s=float(get("window_s")),
            run_epoch_s=int(get("run_epoch_s")),
            ordercore_url=get("ordercore_url"),
            ordercore_token=get("ordercore_token"),
            driver_key=get("driver_key"),
            operator_token=get("operator_token"),
            order_share=float(get("order_share")),
            warmup_s=float(get("warmup_s")),
            partner_key=get("partner_key"),
        )
