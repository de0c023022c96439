"""Benchmark: ``sensors.ppg.estimate_heart_rate`` beside NeuroKit2 and HeartPy.

Four sets, the same for every method:

- **real, development**: 20-s windows of the recordings in ``tests/sensors/real_ppg.py`` (a
  smartwatch at 20 Hz, a fingertip pulse sensor at 100 Hz and at ~64 Hz with integer samples, a
  BVP finger clip and a BITalino BVP sensor with motion at 250 Hz, a blood volume pulse at 256 Hz);
- **real, held out**: 20-s windows of a fingertip pulse sensor at ~117 Hz (its failures were looked
  at only to find the kind of error) and of a PLUX finger SpO2 sensor at 250 Hz (never run while
  developing);
- **NeuroKit2 heavy motion**: ``nk.ppg_simulate`` (60 s, motion noise, two of its artefact bursts)
  plus two 4-s in-band motion bursts four times the signal's spread, 45-165 bpm, at 100 Hz and at
  64.3 Hz; the truth is the simulator's heart rate;
- **no pulse**: white noise, band-limited noise, a flat line and a clipped record, at 50 and 100 Hz.

A real window is scored only where two independent references agree within 2 bpm
(``real_ppg.consensus``: NeuroKit2's Elgendi detector and a plain band-pass peak-interval method);
the others are counted but not scored. Because the Elgendi detector is one of the two references,
its own row is flattered on real data; the Charlton row is independent of the references.
"within 3" is within 3 bpm of the reference, "x2 / x0.5" counts rates within 10 % of double or
half the reference, "refused" is no rate at all. NeuroKit2's rate is 60 / mean of the intervals
within 25 % of their median; HeartPy's is its ``bpm`` (an exception counts as a refusal).

Timing is the median and the fastest wall time of one call on a 60 s, 100 Hz NeuroKit2 record; the
machine may be shared (the fastest is then the better guide), so compare within one run.

Run from the repository root (pytest does not collect this file; needs the ``bench`` extra):
    python tests/bench/bench_ppg.py [--seeds 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import signal as sps

from sensors.ppg import estimate_heart_rate
from tests.sensors import real_ppg

BPMS = (45, 60, 75, 90, 105, 120, 135, 150, 165)
SIM_RATES = (100.0, 64.3)
Estimator = Callable[[np.ndarray, float], float | None]


def ours(signal: np.ndarray, fs: float) -> float | None:
    return estimate_heart_rate(signal, fs).bpm


def neurokit(method: str) -> Estimator:
    def estimate(signal: np.ndarray, fs: float) -> float | None:
        try:
            return real_ppg.neurokit_bpm(signal, fs, method)
        except Exception:
            return None

    return estimate


def heartpy(signal: np.ndarray, fs: float) -> float | None:
    import heartpy as hp  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, measures = hp.process(np.asarray(signal, dtype=float), fs)
        except Exception:
            return None
    bpm = float(measures["bpm"])
    return bpm if np.isfinite(bpm) else None


def simulated(seeds: int) -> list[tuple[np.ndarray, float, float]]:
    import neurokit2 as nk  # type: ignore[import-untyped, import-not-found, unused-ignore]

    out = []
    for fs in SIM_RATES:
        b, a = sps.butter(2, (0.3, 4.0), btype="bandpass", fs=fs)
        for bpm in BPMS:
            for seed in range(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x = nk.ppg_simulate(
                        duration=60,
                        sampling_rate=fs,
                        heart_rate=bpm,
                        motion_amplitude=0.3,
                        burst_number=2,
                        burst_amplitude=2.0,
                        random_state=seed,
                    )
                rng = np.random.default_rng(1000 * seed + bpm)
                n = int(4 * fs)
                for k in range(2):  # one 4-s burst in each half
                    start = int(rng.uniform(30 * k + 2, 30 * k + 24) * fs)
                    burst = sps.filtfilt(b, a, rng.standard_normal(n + 200))[100:-100]
                    x[start : start + n] += burst * 4 * np.std(x) / np.std(burst) * np.hanning(n) ** 0.3
                out.append((x, fs, float(bpm)))
    return out


def no_pulse() -> list[tuple[np.ndarray, float]]:
    out = []
    for fs in (50.0, 100.0):
        rng = np.random.default_rng(int(fs))
        n = int(30 * fs)
        b, a = sps.butter(2, (0.5, 4.0), btype="bandpass", fs=fs)
        clipped = np.clip(rng.standard_normal(n), -0.1, 0.1)
        out += [(rng.standard_normal(n), fs), (sps.filtfilt(b, a, rng.standard_normal(n)), fs)]
        out += [(np.full(n, 512.0), fs), (clipped, fs)]
    return out


@dataclass
class Score:
    errors: list[float] = field(default_factory=list)
    harmonic: int = 0
    refused: int = 0

    def add(self, bpm: float | None, truth: float) -> None:
        if bpm is None:
            self.refused += 1
            return
        self.errors.append(abs(bpm - truth))
        ratio = bpm / truth
        self.harmonic += abs(ratio - 2) < 0.2 or abs(ratio - 0.5) < 0.05

    def cells(self) -> str:
        n = len(self.errors) + self.refused
        errors = np.array(self.errors)
        mae = f"{errors.mean():.2f}" if len(errors) else "-"
        within3 = int((errors <= 3).sum())
        within5 = int((errors <= 5).sum())
        return (
            f"{n} | {within3} ({100 * within3 / n:.0f} %) | {100 * within5 / n:.0f} % | {mae} | "
            f"{self.harmonic} | {self.refused} ({100 * self.refused / n:.0f} %)"
        )


def ms_per_minute(estimate: Estimator, signal: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median and fastest wall time of one call, in ms (the fastest is the cost without waiting
    for a shared CPU)."""
    estimate(signal, 100.0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        estimate(signal, 100.0)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), 1000 * min(times)


def _show(bpm: float | None) -> str:
    return "refused" if bpm is None else f"{bpm:.1f}"


def real_sets() -> dict[str, list[tuple[np.ndarray, float, float | None]]]:
    sets: dict[str, list[tuple[np.ndarray, float, float | None]]] = {}
    for label, names in (
        ("real, development", real_ppg.DEVELOPMENT),
        ("real, held out", real_ppg.HELD_OUT),
    ):
        rows = []
        for name in names:
            recording = real_ppg.load(name)
            for window in real_ppg.windows(recording):
                rows.append((window, recording.fs, real_ppg.consensus(window, recording.fs)))
        sets[label] = rows
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="simulated records per heart rate and rate")
    args = parser.parse_args()
    methods: dict[str, tuple[Estimator, int]] = {
        "ours (sensors.ppg)": (ours, 200),
        "NeuroKit2 elgendi": (neurokit("elgendi"), 20),
        "NeuroKit2 charlton": (neurokit("charlton"), 10),
        "HeartPy": (heartpy, 10),
    }
    reals = real_sets()
    sims = simulated(args.seeds)
    blank = no_pulse()
    timing_signal = next(x for x, fs, bpm in sims if fs == 100.0 and bpm == 75.0)
    print(
        f"# Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for label, rows in reals.items():
        agreed = sum(ref is not None for _, _, ref in rows)
        print(f"# {label}: {len(rows)} windows of 20 s, references agree on {agreed}")
        if label == "real, held out":
            for window, fs, ref in rows:
                print(f"#   {fs:g} Hz: reference {ref and round(ref, 1)}, ours {_show(ours(window, fs))}")
    print(f"# simulated: {len(sims)} records of 60 s; no pulse: {len(blank)} records of 30 s\n")
    print("| method | set | scored | within 3 bpm | within 5 bpm | MAE bpm | x2 / x0.5 | refused |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (estimate, repeats) in methods.items():
        for label, rows in reals.items():
            score = Score()
            for window, fs, ref in rows:
                if ref is not None:
                    score.add(estimate(window, fs), ref)
            print(f"| {name} | {label} | {score.cells()} |", flush=True)
        score = Score()
        for x, fs, bpm in sims:
            score.add(estimate(x, fs), bpm)
        print(f"| {name} | NeuroKit2 heavy motion | {score.cells()} |", flush=True)
        rates = sum(estimate(x, fs) is not None for x, fs in blank)
        median_ms, best_ms = ms_per_minute(estimate, timing_signal, repeats)
        blanks = f"no pulse: {rates} of {len(blank)} gave a rate"
        speed = f"ms per 60 s at 100 Hz: median {median_ms:.2f}, best {best_ms:.2f}"
        print(f"| {name} | {blanks}; {speed} | | | | | | |")


if __name__ == "__main__":
    main()
