"""Heart rate from a photoplethysmogram (finger sensor or fingertip camera).

Steps:

1. validate; refuse flat, clipped or too-short records;
2. block-average rates of 50 Hz and more down to 25-50 Hz; zero-phase Butterworth band-pass
   0.5-4 Hz (``_ppg_dsp``);
3. mark high-amplitude motion bursts (moving RMS against the quieter part of the record) and
   leave them out of everything that follows;
4. turn a raw light-intensity record (pulse pointing down) upright, judged by the skew of its
   slope;
5. estimate the beat period from the autocorrelation of the clean part, scoring each candidate
   lag by its multiples;
6. pick beats at the steepest upslope within a refractory period tied to that period, so the
   diastolic wave after the dicrotic notch cannot double the rate; try half the period in case
   the autocorrelation settled on a multiple, and fill skipped beats where the rate rose
   (``_ppg_beats``);
7. keep the intervals between neighbouring clean beats that agree with the local rhythm, count
   whole beats across gaps, and take the mean rate over the record;
8. score quality from beat-shape similarity, upstroke steepness, periodicity, harmonic content,
   interval regularity, usable share and agreement with the autocorrelation rate
   (``_ppg_quality``). Below ``MIN_QUALITY`` the estimate is refused: ``bpm=None`` and a ``reason``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensors._ppg_beats import Beats, choose_rhythm
from sensors._ppg_dsp import (
    MAX_BPM,
    MIN_BPM,
    FloatArray,
    bandpass,
    decimate,
    dominant_period,
    harmonic_fraction,
    max_lag,
    motion_mask,
    slope_skewness,
    spectrum,
)
from sensors._ppg_quality import Features, beat_shape, features, quality_index

MIN_FS, MAX_FS = 20.0, 500.0
MIN_DURATION_S = 5.0
MIN_QUALITY = 0.45
_MIN_CLEAN_S = 4.0
_CLIP_FRACTION = 0.08
_INVERTED_SKEW = -0.25  # slope skewness below this: a light-intensity (upside-down) record


@dataclass(frozen=True, slots=True)
class HeartRateEstimate:
    bpm: float | None  # None when the record is unreliable; see ``reason``
    quality: float  # 0 (unusable) .. 1 (clean, regular, consistent)
    beat_times_s: tuple[float, ...]  # systolic peaks outside motion bursts
    ibi_s: tuple[float, ...] = ()  # the accepted inter-beat intervals
    reason: str | None = None  # why ``bpm`` is None
    spectral_bpm: float | None = None  # the autocorrelation rate, for cross-checking
    clean_fraction: float = 0.0  # share of the record outside motion bursts
    inverted: bool = False  # the record was read upside down (raw light intensity) and flipped


def _refuse(reason: str) -> HeartRateEstimate:
    return HeartRateEstimate(bpm=None, quality=0.0, beat_times_s=(), reason=reason)


def _as_signal(signal: Sequence[float] | NDArray[np.floating] | NDArray[np.integer], fs: float) -> FloatArray:
    if isinstance(fs, bool) or not isinstance(fs, int | float | np.floating | np.integer):
        raise ValueError(f"fs must be a number, not {type(fs).__name__}")
    if not math.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        raise ValueError(f"fs must be between {MIN_FS:g} and {MAX_FS:g} Hz, got {fs}")
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"signal must be a sequence of numbers: {exc}") from None
    if x.ndim != 1:
        raise ValueError(f"signal must be one-dimensional, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("signal contains non-finite values (nan or inf)")
    return x


def _screen_raw(x: FloatArray, fs: float) -> str | None:
    """A reason to refuse before any filtering, or None."""
    if len(x) < MIN_DURATION_S * fs:
        return f"too short: {len(x) / fs:.1f} s, need at least {MIN_DURATION_S:g} s"
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if span == 0 or span <= 1e-9 * max(abs(hi), abs(lo)):
        return "flat signal: no pulsation (no finger on the sensor?)"
    tol = 1e-3 * span
    railed = np.count_nonzero(x >= hi - tol) + np.count_nonzero(x <= lo + tol)
    if railed > _CLIP_FRACTION * len(x):
        return "clipped or saturated signal"
    return None


@dataclass(frozen=True, slots=True)
class _Analysis:
    beats: Beats
    features: Features
    spectral_bpm: float
    time_offset_s: float
    inverted: bool


def _analyse(x: FloatArray, fs: float) -> _Analysis | str:
    """Filter, mask motion, find the period and the beats; or the reason there is nothing to find."""
    x = (x - x[0]) / float(x.max() - x.min())  # any units: counts, volts, camera brightness
    x, work_fs, t0 = decimate(x, fs)
    y = bandpass(x, work_fs)
    valid = ~motion_mask(y, work_fs)
    inverted = slope_skewness(y, valid) < _INVERTED_SKEW
    if inverted:
        y = -y
    clean_fraction = np.count_nonzero(valid) / len(valid)
    if clean_fraction * len(y) < _MIN_CLEAN_S * work_fs:
        return "too much motion: not enough clean signal"
    spec = spectrum(y, valid, max_lag(work_fs))
    period, periodicity = dominant_period(spec, work_fs)
    half_acf = float(spec.acf[round(period * work_fs / 2)])
    period, beats = choose_rhythm(y, valid, work_fs, period, MAX_BPM, half_acf)
    if len(beats.ibi_s) < 3 or beats.span_s <= 0:
        return "no regular pulse found"
    if not MIN_BPM <= beats.bpm <= MAX_BPM:
        return f"rate outside {MIN_BPM:g}-{MAX_BPM:g} bpm"
    feats = features(
        beats,
        shape=beat_shape(y, beats.index, work_fs, period),
        periodicity=periodicity,
        harmonic=harmonic_fraction(spec, work_fs, period),
        clean_fraction=clean_fraction,
        spectral_bpm=60.0 / period,
    )
    return _Analysis(beats, feats, 60.0 / period, t0, inverted)


def estimate_heart_rate(
    signal: Sequence[float] | NDArray[np.floating] | NDArray[np.integer], fs: float
) -> HeartRateEstimate:
    """Estimate the mean heart rate of a PPG record sampled at ``fs`` Hz (20-500, any real value).

    Raises ``ValueError`` for input that is not a finite one-dimensional numeric signal or a
    sampling rate outside 20-500 Hz; returns ``bpm=None`` with a ``reason`` for records that carry
    no reliable pulse.
    """
    x = _as_signal(signal, fs)
    fs = float(fs)
    problem = _screen_raw(x, fs)
    result = problem or _analyse(x, fs)
    if isinstance(result, str):
        return _refuse(result)
    quality = quality_index(result.features)
    reason = None if quality >= MIN_QUALITY else "low signal quality"
    return HeartRateEstimate(
        bpm=result.beats.bpm if reason is None else None,
        quality=round(quality, 3),
        beat_times_s=tuple((result.beats.times_s + result.time_offset_s).tolist()),
        ibi_s=tuple(result.beats.ibi_s.tolist()),
        reason=reason,
        spectral_bpm=result.spectral_bpm,
        clean_fraction=result.features.clean_fraction,
        inverted=result.inverted,
    )
