"""Benchmark: ``sensors.ppg.estimate_heart_rate`` against NeuroKit2's PPG peak detectors.

Every method sees the same simulated finger-PPG records (``sensors.simulator.simulate_ppg``:
20 s at 100 Hz, 9 heart rates from 40 to 180 bpm, a random dicrotic-wave height per record) under
four conditions: clean, moderate noise, moderate motion (bursts 1-3x the pulse) and heavy in-band
motion (bursts 3-10x the pulse over ~30 % of the record). The truth is the simulator's mean rate
between its first and last systolic peak.

NeuroKit2 runs its own pipeline: ``ppg_clean`` (Elgendi band-pass) then ``ppg_findpeaks`` with
each method; its rate is 60 / median inter-beat interval (more robust to spurious peaks than the
mean, so the comparison favours it). NeuroKit2 never refuses; our refusals (``bpm=None``) count as
misses in "within 5 bpm" and are left out of the MAE.

Timing is the median wall time of the whole call on one 60 s, 100 Hz record (clean and heavy
motion), repeated; the machine may be shared, so compare within one run.

Run from the repository root (pytest does not collect this file; needs ``pip install neurokit2``):
    python tests/bench/bench_ppg.py [--seeds 4] [--no-bishop]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensors.ppg import estimate_heart_rate
from sensors.simulator import SyntheticPPG, simulate_ppg

FS = 100.0
SECONDS = 20.0
BPMS = (40, 50, 60, 72, 90, 110, 130, 150, 180)
CONDITIONS: dict[str, dict[str, Any]] = {
    "clean": {"noise": 0.02},
    "moderate noise": {"noise": 0.3},
    "moderate motion": {"noise": 0.05, "motion_fraction": 0.2, "motion_amplitude": (1.0, 3.0)},
    "heavy motion": {"noise": 0.05, "motion_fraction": 0.3, "motion_amplitude": (3.0, 10.0)},
}
Estimator = Callable[[np.ndarray, float], float | None]


def ours(signal: np.ndarray, fs: float) -> float | None:
    return estimate_heart_rate(signal, fs).bpm


def neurokit(method: str) -> Estimator:
    # Bench-only dependency; it ships no type hints.
    import neurokit2 as nk  # type: ignore[import-untyped, import-not-found, unused-ignore]

    def estimate(signal: np.ndarray, fs: float) -> float | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rate = round(fs)  # some of its methods index with the rate, so it must be an integer
            cleaned = nk.ppg_clean(signal, sampling_rate=rate)
            peaks = np.asarray(nk.ppg_findpeaks(cleaned, sampling_rate=rate, method=method)["PPG_Peaks"])
        if len(peaks) < 2:
            return None
        return float(60.0 / np.median(np.diff(peaks) / fs))

    return estimate


@dataclass
class Score:
    errors: list[float]
    refused: int = 0

    def row(self) -> tuple[float, float, float]:
        n = len(self.errors) + self.refused
        mae = float(np.mean(self.errors)) if self.errors else float("nan")
        within = sum(e <= 5.0 for e in self.errors) / n
        return mae, 100 * within, 100 * self.refused / n


def records(condition: str, seeds: int) -> list[SyntheticPPG]:
    rng = np.random.default_rng(12345)
    out = []
    for bpm in BPMS:
        for seed in range(seeds):
            dicrotic = float(rng.uniform(0.25, 0.7))
            out.append(
                simulate_ppg(
                    bpm, SECONDS, FS, seed=7919 * seed + bpm, dicrotic=dicrotic, **CONDITIONS[condition]
                )
            )
    return out


def score(estimate: Estimator, data: list[SyntheticPPG]) -> Score:
    result = Score([])
    for record in data:
        bpm = estimate(record.signal, FS)
        if bpm is None:
            result.refused += 1
        else:
            result.errors.append(abs(bpm - record.mean_bpm))
    return result


def ms_per_minute(estimate: Estimator, repeats: int) -> float:
    times = []
    for kwargs in (CONDITIONS["clean"], CONDITIONS["heavy motion"]):
        signal = simulate_ppg(72, 60.0, FS, seed=99, **kwargs).signal
        estimate(signal, FS)
        for _ in range(repeats):
            start = time.perf_counter()
            estimate(signal, FS)
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="records per heart rate and condition")
    parser.add_argument("--no-bishop", action="store_true", help="skip NeuroKit2's slow MSPTD (bishop)")
    args = parser.parse_args()
    methods: dict[str, tuple[Estimator, int]] = {"ours (sensors.ppg)": (ours, 200)}
    for method in ("elgendi", "charlton", "bishop"):
        if method == "bishop" and args.no_bishop:
            continue
        methods[f"NeuroKit2 {method}"] = (neurokit(method), 2 if method == "bishop" else 20)
    data = {c: records(c, args.seeds) for c in CONDITIONS}
    print(
        f"# {len(BPMS) * args.seeds} records of {SECONDS:g} s at {FS:g} Hz per condition; "
        f"Python {platform.python_version()}, {platform.machine()}\n"
    )
    print("| method | condition | MAE bpm | within 5 bpm | refused | ms per 60 s at 100 Hz |")
    print("|---|---|---|---|---|---|")
    for name, (estimate, repeats) in methods.items():
        timing = ms_per_minute(estimate, repeats)
        for condition, recs in data.items():
            mae, within, refused = score(estimate, recs).row()
            print(
                f"| {name} | {condition} | {mae:.2f} | {within:.1f} % | {refused:.1f} % | {timing:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
