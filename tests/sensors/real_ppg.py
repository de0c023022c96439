"""Real PPG recordings for tests and the benchmark, and a consensus reference per 20-s window.

- ``wrist``: ``data/wrist_ppg_20hz.csv`` (committed, MIT, from the e2epyppg package): a smartwatch,
  12 minutes at about 20 Hz, raw light intensity.
- ``finger100``, ``finger117``, ``finger62``: the sample files shipped inside the ``heartpy`` package
  (``heartpy/data/data.csv``, ``data2.csv``, ``data3.csv``; GPL-3 with that package, so they are
  read from the installed package at run time and never copied here): a fingertip pulse sensor on
  an Arduino, integer ADC counts, at 100 Hz, about 117 Hz and about 62 Hz (from their timestamps).

- ``plux_finger``, ``bitalino_motion``, ``nova``, ``plux_spo2``: recordings shipped in the
  ``biosignalsnotebooks`` package (MIT), committed under ``data/`` at 250 Hz (every fourth sample of
  the 1000 Hz originals; ``nova`` as shipped, 256 Hz): a biosignalsplux BVP finger clip at rest
  (16-bit integers), a BITalino BVP sensor with motion artefacts (10-bit integers), a blood volume
  pulse at 256 Hz, and a PLUX finger SpO2 sensor (one of its two light channels, 16-bit integers).
  These are short (27-91 s), so their 20-s windows start every 10 s.

Held out (``HELD_OUT``), reported separately: ``finger117``, whose failures were looked at only to
find the kind of error (see ``tests/bench/RESULTS.md``), and ``plux_spo2``, never run while the
estimator was being changed. Each recording is put on a uniform grid at its mean sampling rate (the
timestamped files jitter).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal as sps

WINDOW_S = 20.0
HELD_OUT = ("finger117", "plux_spo2")
_DATA = Path(__file__).parent / "data"
_WRIST = _DATA / "wrist_ppg_20hz.csv"
_PLUX = {  # name: (file, column, sensor, sampling rate)
    "plux_finger": ("plux_bvp_finger_250hz.csv", 0, "biosignalsplux BVP finger clip", 250.0),
    "bitalino_motion": ("bitalino_bvp_motion_250hz.csv", 0, "BITalino BVP sensor, motion", 250.0),
    "nova": ("nova_bvp_256hz.csv", 0, "blood volume pulse sensor", 256.0),
    "plux_spo2": ("plux_spo2_finger_250hz.csv", 0, "PLUX finger SpO2 sensor", 250.0),
}


@dataclass(frozen=True)
class Recording:
    name: str
    sensor: str
    signal: np.ndarray
    fs: float
    hop_s: float = WINDOW_S  # windows start this many seconds apart


def _plux(name: str) -> Recording:
    file, column, sensor, fs = _PLUX[name]
    x = np.loadtxt(_DATA / file, delimiter=",", skiprows=1, ndmin=2)[:, column]
    started = int(np.argmax(x != 0))  # the device's start-up zeros, if any
    return Recording(name, sensor, x[started:], fs, hop_s=10.0)


def _uniform(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    keep = np.concatenate(([True], np.diff(t) > 0))
    t, x = t[keep], x[keep]
    fs = (len(t) - 1) / (t[-1] - t[0])
    grid = t[0] + np.arange(int((t[-1] - t[0]) * fs)) / fs
    return np.rint(np.interp(grid, t, x)), round(float(fs), 2)


def _heartpy_dir() -> Path:
    """HeartPy's packaged recordings, found without importing HeartPy (its import pulls in the
    deprecated pkg_resources, which warns under newer setuptools)."""
    spec = importlib.util.find_spec("heartpy")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("heartpy (the dev extra) holds the sample finger recordings")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load(name: str) -> Recording:
    if name == "wrist":
        table = np.genfromtxt(_WRIST, delimiter=",", names=True)
        t = (table["timestamp_ms"] - table["timestamp_ms"][0]) / 1000.0
        keep = np.concatenate(([True], np.diff(t) > 0))
        grid = np.arange(0.0, t[keep][-1], 1.0 / 20.0)
        return Recording(name, "smartwatch (wrist)", np.interp(grid, t[keep], table["ppg"][keep]), 20.0)
    if name in _PLUX:
        return _plux(name)
    folder = _heartpy_dir()
    if name == "finger100":
        return Recording(name, "fingertip pulse sensor", np.loadtxt(folder / "data.csv"), 100.0)
    if name == "finger117":
        table = np.genfromtxt(folder / "data2.csv", delimiter=",", names=True)
        x, fs = _uniform(table["timer"] / 1000.0, table["hr"])
        return Recording(name, "fingertip pulse sensor", x, fs)
    if name == "finger62":
        raw = np.genfromtxt(folder / "data3.csv", delimiter=",", skip_header=1, dtype=str)
        stamps = np.array(raw[:, 0], dtype="datetime64[us]")
        t = (stamps - stamps[0]).astype(np.float64) / 1e6
        x, fs = _uniform(t, raw[:, 1].astype(np.float64))
        return Recording(name, "fingertip pulse sensor", x, fs)
    raise KeyError(name)


DEVELOPMENT = ("wrist", "finger100", "finger62", "plux_finger", "bitalino_motion", "nova")


def windows(recording: Recording, seconds: float = WINDOW_S) -> list[np.ndarray]:
    size, hop = int(seconds * recording.fs), int(recording.hop_s * recording.fs)
    return [recording.signal[i : i + size] for i in range(0, len(recording.signal) - size + 1, hop)]


def peak_interval_bpm(x: np.ndarray, fs: float) -> float | None:
    """A plain reference: band-pass 0.5-3.5 Hz, peaks of the upright pulse at least 0.33 s apart
    and half the median prominence, 60 / median interval."""
    b, a = sps.butter(3, (0.5, 3.5), btype="bandpass", fs=fs)
    y = sps.filtfilt(b, a, x - x.mean())
    slope = np.diff(y)
    if float(np.mean(slope**3)) < 0:  # light intensity: the pulse points down
        y = -y
    peaks, props = sps.find_peaks(y, distance=max(1, int(0.33 * fs)), prominence=0.0)
    if len(peaks) < 3:
        return None
    peaks = peaks[props["prominences"] >= 0.5 * np.median(props["prominences"])]
    return _rate(y, peaks, fs)


def _rate(y: np.ndarray, peaks: np.ndarray, fs: float) -> float | None:
    """60 / mean of the sub-sample intervals within 0.7-1.4 times their median: the mean rate
    (a median is biased when breathing stretches some intervals), without the parts of an interval
    split by a stray peak or the double interval of a missed one; not quantised to whole samples
    at low sampling rates."""
    peaks = peaks[(peaks > 0) & (peaks < len(y) - 1)]
    if len(peaks) < 3:
        return None
    a, b, c = y[peaks - 1], y[peaks], y[peaks + 1]
    denom = a - 2 * b + c
    shift = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, -1.0), 0.0)
    ibi = np.diff(peaks + np.clip(shift, -0.5, 0.5)) / fs
    ratio = ibi / np.median(ibi)
    ibi = ibi[(ratio >= 0.7) & (ratio <= 1.4)]
    return float(60.0 / ibi.mean()) if len(ibi) >= 2 else None


def neurokit_bpm(x: np.ndarray, fs: float, method: str = "elgendi") -> float | None:
    import neurokit2 as nk  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rate = round(fs)
        y = np.asarray(x, dtype=float)
        if float(np.mean(np.diff(y) ** 3)) < 0:
            y = -y
        cleaned = nk.ppg_clean(y, sampling_rate=rate)
        peaks = np.asarray(nk.ppg_findpeaks(cleaned, sampling_rate=rate, method=method)["PPG_Peaks"])
    return _rate(np.asarray(cleaned, dtype=float), peaks.astype(int), fs)


def consensus(x: np.ndarray, fs: float) -> float | None:
    """The mean of two independent references when they agree within 2 bpm, else None."""
    a, b = neurokit_bpm(x, fs), peak_interval_bpm(x, fs)
    if a is None or b is None or abs(a - b) > 2.0:
        return None
    return 0.5 * (a + b)
