"""PNG plots of a run: p99 latency and throughput per route across the ramp, CPU per process group."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from loadtests.peak.report import read_csv

DPI = 72
SIZE = (10.0, 4.2)


def _series(rows: list[dict[str, str]], key: str) -> dict[str, tuple[list[float], list[float]]]:
    out: dict[str, tuple[list[float], list[float]]] = {}
    for r in rows:
        xs, ys = out.setdefault(r["route"], ([], []))
        xs.append(float(r["window_start_s"]))
        ys.append(float(r[key]))
    return out


def _users_axis(ax: Axes, out: Path) -> None:
    users = read_csv(out / "users.csv")
    if users:
        twin = ax.twinx()
        twin.fill_between(
            [float(u["window_start_s"]) for u in users],
            [int(u["users"]) for u in users],
            color="#ddd",
            step="post",
        )
        twin.set_ylabel("users")
        twin.set_zorder(ax.get_zorder() - 1)
        ax.patch.set_visible(False)


def write_plots(out: Path, main_routes: list[str]) -> list[Path]:
    timeline = read_csv(out / "timeline.csv")
    written = []
    for key, name, label in (
        ("p99_ms", "latency.png", "p99 ms per window"),
        ("rps", "throughput.png", "req/s"),
    ):
        fig, ax = plt.subplots(figsize=SIZE)
        _users_axis(ax, out)
        for route, (xs, ys) in sorted(_series(timeline, key).items()):
            if route in main_routes:
                ax.plot(xs, ys, label=route, linewidth=1.2)
        if key == "rps":
            errors = _series(timeline, "failures")
            xs_all = sorted({x for xs, _ in errors.values() for x in xs})
            failed = [sum(ys[xs.index(x)] for xs, ys in errors.values() if x in xs) for x in xs_all]
            if any(failed):
                ax.plot(xs_all, failed, "r:", label="failures (all routes)")
        ax.set_xlabel("seconds into the run")
        ax.set_ylabel(label)
        if key == "p99_ms":
            ax.set_yscale("log")  # targets of 20-300 ms beside seconds of queueing on a busy machine
        ax.legend(fontsize=7, loc="upper left", ncol=2)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / name, dpi=DPI)
        plt.close(fig)
        written.append(out / name)
    cpu = read_csv(out / "cpu.csv")
    fig, ax = plt.subplots(figsize=SIZE)
    ts = [float(r["t_s"]) for r in cpu]
    for key in ("generator", "service", "busiest_worker", "ordercore", "database", "machine_busy"):
        ax.plot(ts, [float(r[key]) for r in cpu], label=key, linewidth=1.2)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("cores")
    ax.legend(fontsize=7, loc="upper left", ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "cpu.png", dpi=DPI)
    plt.close(fig)
    written.append(out / "cpu.png")
    return written
