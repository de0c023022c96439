"""Synthetic finger photoplethysmogram with known beats (used through ``sensors.simulator``).

Each beat is a sum of Gaussians after its onset: a systolic peak, a diastolic (reflected) wave
separated from it by the dicrotic notch, and a slow run-off. Beat-to-beat intervals carry
respiratory sinus arrhythmia plus slow random variation; respiration also modulates pulse
amplitude and baseline. Optional white sensor noise and motion bursts (large, inside the cardiac
band) are added. Everything is drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# (delay after onset, width, relative amplitude) at a 1 s beat interval; times scale as T**0.6.
_SYSTOLIC = (0.17, 0.055, 1.0)
_DIASTOLIC = (0.42, 0.095, 1.0)  # amplitude multiplied by the dicrotic ratio
_RUNOFF = (0.62, 0.22, 0.22)


@dataclass(frozen=True, slots=True)
class SyntheticPPG:
    signal: FloatArray
    fs: float
    peak_times_s: FloatArray  # systolic peaks inside the signal
    onset_times_s: FloatArray  # beat onsets (feet) inside the signal
    motion_mask: NDArray[np.bool_]  # samples touched by a motion burst

    @property
    def duration_s(self) -> float:
        return len(self.signal) / self.fs

    @property
    def mean_bpm(self) -> float:
        """The true mean heart rate: beats counted between the first and last systolic peak."""
        peaks = self.peak_times_s
        return float(60.0 * (len(peaks) - 1) / (peaks[-1] - peaks[0]))


def beat_onsets(bpm: float, duration_s: float, rng: np.random.Generator, hrv: float) -> FloatArray:
    """Onset times from slightly before 0 to past ``duration_s``.

    The interval varies with respiration (sinus arrhythmia), a slow oscillation around 0.1 Hz and a
    small beat-to-beat jitter; variability shrinks at high rates as it does during exercise.
    """
    period = 60.0 / bpm
    depth = hrv * min(1.0, period) ** 0.7
    resp = (rng.uniform(0.18, 0.32), rng.uniform(0, 2 * np.pi))
    slow = (rng.uniform(0.05, 0.15), rng.uniform(0, 2 * np.pi))
    onsets = [-rng.uniform(0.2, 1.0) * period]
    while onsets[-1] < duration_s + period:
        t = onsets[-1]
        factor = 1.0 + depth * (
            np.sin(2 * np.pi * resp[0] * t + resp[1])
            + 0.8 * np.sin(2 * np.pi * slow[0] * t + slow[1])
            + 0.3 * rng.normal()
        )
        onsets.append(t + period * float(np.clip(factor, 0.75, 1.3)))
    return np.asarray(onsets)


def _add_beat(
    out: FloatArray, t: FloatArray, fs: float, onset: float, interval: float, scale: float, dicrotic: float
) -> float:
    """Add one beat in place; returns its systolic peak time."""
    c: float = interval**0.6
    start = max(0, int((onset - 0.05) * fs))
    stop = min(len(t), int((onset + 2.2 * c) * fs) + 1)
    if start < stop:
        seg = t[start:stop] - onset
        for delay, width, amp in (_SYSTOLIC, (*_DIASTOLIC[:2], _DIASTOLIC[2] * dicrotic), _RUNOFF):
            out[start:stop] += scale * amp * np.exp(-0.5 * ((seg - delay * c) / (width * c)) ** 2)
    return onset + _SYSTOLIC[0] * c


def pulse_train(
    onsets: FloatArray, t: FloatArray, fs: float, rng: np.random.Generator, dicrotic: float
) -> tuple[FloatArray, FloatArray]:
    """The clean pulsatile waveform and its systolic peak times."""
    out = np.zeros_like(t)
    resp_hz = rng.uniform(0.18, 0.32)
    peaks = np.empty(len(onsets) - 1)
    for k in range(len(onsets) - 1):
        resp = 1.0 + 0.12 * np.sin(2 * np.pi * resp_hz * onsets[k])
        scale = resp * rng.uniform(0.93, 1.07)
        peaks[k] = _add_beat(out, t, fs, onsets[k], onsets[k + 1] - onsets[k], scale, dicrotic)
    baseline = 0.35 * np.sin(2 * np.pi * resp_hz * t + rng.uniform(0, 2 * np.pi))
    drift = np.cumsum(rng.normal(0, 0.02 / np.sqrt(fs), len(t)))
    return out + baseline + drift, peaks


def motion_bursts(
    t: FloatArray, fs: float, rng: np.random.Generator, fraction: float, amplitude: tuple[float, float]
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Large in-band artefact bursts covering roughly ``fraction`` of the record."""
    out = np.zeros_like(t)
    mask = np.zeros(len(t), dtype=bool)
    duration = len(t) / fs
    covered = 0.0
    while fraction > 0 and covered < fraction * duration:
        length = rng.uniform(1.5, 5.0)
        start = rng.uniform(-1.0, duration - 0.5)
        i0, i1 = max(0, int(start * fs)), min(len(t), int((start + length) * fs))
        if i1 - i0 < 4:
            continue
        seg = t[i0:i1]
        burst = np.zeros_like(seg)
        for _ in range(3):
            freq = rng.uniform(0.6, 3.5)
            burst += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * freq * seg + rng.uniform(0, 2 * np.pi))
        burst += rng.normal(0, 0.3, len(seg))
        burst += rng.uniform(-1.5, 1.5)  # the sensor shifts on the finger
        envelope = np.hanning(len(seg)) ** 0.5
        out[i0:i1] += rng.uniform(*amplitude) * burst * envelope / 1.6
        mask[i0:i1] = True
        covered += (i1 - i0) / fs
    return out, mask


def simulate_ppg(
    bpm: float,
    duration_s: float,
    fs: float,
    *,
    seed: int = 0,
    noise: float = 0.0,
    motion_fraction: float = 0.0,
    motion_amplitude: tuple[float, float] = (3.0, 10.0),
    hrv: float = 0.04,
    dicrotic: float = 0.45,
) -> SyntheticPPG:
    """A finger-PPG record (pulse amplitude ~1) with its true beat times.

    ``noise`` is the standard deviation of white noise at 100 Hz; it is scaled with the sampling
    rate so that the noise inside the cardiac band is the same at every ``fs``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * fs)) / fs
    onsets = beat_onsets(bpm, duration_s, rng, hrv)
    signal, peaks = pulse_train(onsets, t, fs, rng, dicrotic)
    signal += rng.normal(0.0, noise * np.sqrt(fs / 100.0), len(t)) if noise else 0.0
    artefact, mask = motion_bursts(t, fs, rng, motion_fraction, motion_amplitude)
    end = len(t) / fs
    return SyntheticPPG(
        signal=signal + artefact,
        fs=fs,
        peak_times_s=peaks[(peaks >= 0) & (peaks < end)],
        onset_times_s=onsets[(onsets >= 0) & (onsets < end)],
        motion_mask=mask,
    )
