"""Heart rate from a photoplethysmogram (finger sensor or fingertip camera).

Steps:

1. validate; refuse flat or too-short records; stretches held at the sensor's limits (clipped),
   with a second either side, are left out like motion, and a record with too little else is
   refused as clipped;
2. block-average rates of 50 Hz and more down to 25-50 Hz; zero-phase Butterworth band-pass
   0.5-4 Hz (``_ppg_dsp``);
3. mark high-amplitude motion bursts (moving RMS against the quieter part of the record) and
   leave them out of everything that follows; refuse with less than 20 s of clean signal (a
   third of a record shorter than 60 s); ``used_s`` lists the clean seconds used;
4. turn a raw light-intensity record (pulse pointing down) upright, judged by the skew of its
   slope;
5. candidate beat periods: the autocorrelation's (each lag scored by its multiples), the
   periodogram's strongest cardiac frequency, and half, a third and double the former; and the
   period a candidate's beats show when it disagrees with the one they were picked at;
6. for each, pick beats at the steepest upslope within a refractory period tied to it
   (``_ppg_beats``), keep the intervals between neighbouring clean beats that agree with the
   local rhythm, count whole beats across gaps, and take the mean rate over the record;
7. score each from beat-shape similarity, upstroke steepness, periodicity at its period,
   harmonic content, interval regularity, usable share and agreement of beats and period
   (``_ppg_quality``); a train above 140 bpm whose beats alternate tall-short is a diastolic
   wave counted as a beat and scores half;
8. keep the best, unless an acceptable rhythm runs at half or double its rate: then the spectral
   fundamental and the height alternation decide (``_choose``), so neither a harmonic nor a
   sub-harmonic is reported; a regular train of alike beats at double the rate is weighed even
   when scored low, so that it refuses the record rather than letting half the rate through.
   Below ``MIN_QUALITY`` the estimate is refused: ``bpm=None`` and a ``reason``;
9. when nothing acceptable is found, the record is read the other way up before it is refused
   (a sensor's own high-pass filter can make the slope test of step 4 misjudge it).
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
    BoolArray,
    FloatArray,
    Spectrum,
    bandpass,
    decimate,
    dilate,
    dominant_period,
    harmonic_fraction,
    max_lag,
    median,
    motion_mask,
    slope_skewness,
    spectrum,
)
from sensors._ppg_quality import Features, beat_shape, features, quality_index

MIN_FS, MAX_FS = 20.0, 500.0
MIN_DURATION_S = 5.0
MIN_QUALITY = 0.45
_MIN_CLEAN_S = 20.0  # clean signal needed, or ``_MIN_CLEAN_SHARE`` of a shorter record
_MIN_CLEAN_SHARE = 1.0 / 3.0
_ALTERNATION_BPM = 140.0
_ALTERNATION = 0.8
_SKIPPED_ALTERNATION = 0.4  # beats in between at least this tall: the slower train skipped them
_FUNDAMENTAL_SHARE = 0.25  # power at the slower rate relative to the faster, for a true fundamental
_CLIP_FRACTION = 0.08
_REGULAR_KEPT, _REGULAR_CV, _REGULAR_TEMPLATE = 0.85, 0.1, 0.9  # a faster train that is a rhythm
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
    used_s: tuple[tuple[float, float], ...] = ()  # (start, end) seconds of the clean signal used


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


def _screen_raw(x: FloatArray, fs: float) -> str | BoolArray:
    """A reason to refuse before any filtering, or the samples held at the sensor's limits.

    A sensor driven to its rail (a finger pressed on or lifted) holds its lowest or highest value
    for a while; those stretches, with a second either side, are left out like motion, and the
    record is refused only when too little unclipped signal remains.
    """
    if len(x) < MIN_DURATION_S * fs:
        return f"too short: {len(x) / fs:.1f} s, need at least {MIN_DURATION_S:g} s"
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if span == 0 or span <= 1e-9 * max(abs(hi), abs(lo)):
        return "flat signal: no pulsation (no finger on the sensor?)"
    tol = 1e-3 * span
    railed = (x >= hi - tol) | (x <= lo + tol)
    if np.count_nonzero(railed) <= _CLIP_FRACTION * len(x):
        return np.zeros(len(x), dtype=bool)
    clipped = dilate(railed, int(fs))
    if len(x) - np.count_nonzero(clipped) < _needed_s(len(x) / fs) * fs:
        return "clipped or saturated signal"
    return clipped


def _needed_s(duration_s: float) -> float:
    """Clean signal needed to answer: 20 s, or a third of a record shorter than 60 s."""
    return min(_MIN_CLEAN_S, _MIN_CLEAN_SHARE * duration_s)


@dataclass(frozen=True, slots=True)
class _Analysis:
    beats: Beats
    features: Features
    spectral_bpm: float
    time_offset_s: float
    inverted: bool
    quality: float
    period: float
    used_s: tuple[tuple[float, float], ...]


def _alternation(y: FloatArray, idx: NDArray[np.intp], fs: float, period: float) -> float:
    """Ratio of the weaker to the stronger median pulse height of odd and even beats (1 = alike).

    Beats picked at half the true period alternate systolic and diastolic waves: one in two is
    much smaller. Real beats, however fast, keep their height from one beat to the next.
    """
    if len(idx) < 6:
        return 1.0
    back = max(1, int(0.45 * period * fs))
    start = np.maximum(idx - back, 0)
    low = np.minimum.reduceat(y, np.ravel(np.column_stack((start, idx + 1))))[::2]
    height = y[idx] - low
    odd, even = median(height[1::2]), median(height[::2])
    return min(odd, even) / max(odd, even) if max(odd, even) > 0 else 1.0


def _periodicity(spec: Spectrum, fs: float, period: float) -> float:
    """Mean autocorrelation at the multiples of ``period`` the autocorrelation can be trusted at."""
    span = min(len(spec.acf) - 1, spec.reliable - 1)
    lags = np.rint(period * fs * np.arange(1, max(2, int(span / (period * fs)) + 1))).astype(np.intp)
    lags = lags[lags <= span]
    return float(np.clip(spec.acf[lags].mean(), 0.0, 1.0)) if len(lags) else 0.0


def _candidate(y: FloatArray, valid: BoolArray, fs: float, period: float, ctx: _Context) -> _Analysis | str:
    half_acf = float(ctx.spec.acf[min(len(ctx.spec.acf) - 1, round(period * fs / 2))])
    period, beats = choose_rhythm(y, valid, fs, period, MAX_BPM, half_acf, try_half=False)
    if len(beats.ibi_s) < 3 or beats.span_s <= 0:
        return "no regular pulse found"
    if not MIN_BPM <= beats.bpm <= MAX_BPM:
        return f"rate outside {MIN_BPM:g}-{MAX_BPM:g} bpm"
    feats = features(
        beats,
        shape=beat_shape(y, beats.index, fs, period),
        periodicity=_periodicity(ctx.spec, fs, period),
        harmonic=harmonic_fraction(ctx.spec, fs, period),
        clean_fraction=ctx.clean_fraction,
        spectral_bpm=60.0 / period,
    )
    quality = quality_index(feats)
    if beats.bpm > _ALTERNATION_BPM and _alternation(y, beats.index, fs, period) < _ALTERNATION:
        quality *= 0.5  # systolic and diastolic waves counted as beats: a harmonic
    return _Analysis(beats, feats, ctx.spectral_bpm, ctx.t0, ctx.inverted, quality, period, ctx.used_s)


@dataclass(frozen=True, slots=True)
class _Context:
    spec: Spectrum
    spectral_bpm: float
    clean_fraction: float
    t0: float
    inverted: bool
    used_s: tuple[tuple[float, float], ...]


def _segments(valid: BoolArray, fs: float, t0: float) -> tuple[tuple[float, float], ...]:
    """The (start, end) times in seconds of the runs of clean samples."""
    flags = np.concatenate(([0], valid.view(np.int8), [0]))
    edges = flags[1:] - flags[:-1]
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return tuple(
        (round(t0 + a / fs, 2), round(t0 + b / fs, 2))
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
    )


def _periods(spec: Spectrum, fs: float, period: float) -> list[float]:
    """The autocorrelation period, the periodogram's strongest cardiac frequency, and the half,
    third and double of the autocorrelation period, inside the physiological range."""
    lo_bin, hi_bin = (max(1, round(f / 60.0 * spec.n / fs)) for f in (MIN_BPM + 10.0, MAX_BPM))
    peak = lo_bin + int(np.argmax(spec.power[lo_bin : hi_bin + 1]))
    return _distinct([period, spec.n / (peak * fs), period / 2, period / 3, period * 2], [])


def _distinct(options: list[float], tried: list[float]) -> list[float]:
    """The periods in the physiological range more than 10 % away from each other and from
    ``tried`` (which gains them)."""
    out: list[float] = []
    for p in options:
        if 60.0 / MAX_BPM <= p <= 60.0 / MIN_BPM and all(abs(p / q - 1) > 0.1 for q in (*tried, *out)):
            out.append(p)
    tried.extend(out)
    return out


def _analyse(x: FloatArray, fs: float, clipped: BoolArray) -> _Analysis | str:
    """Filter, mask motion, find the period and the beats; or the reason there is nothing to find.

    Several candidate periods (autocorrelation, periodogram, and sub- and super-harmonics) are
    tried; the one whose beats score the best quality wins, a rhythm whose beats alternate
    strong-weak above 130 bpm counting as a harmonic.
    """
    x = (x - x[0]) / float(x.max() - x.min())  # any units: counts, volts, camera brightness
    x, work_fs, t0 = decimate(x, fs)
    y = bandpass(x, work_fs)
    valid = ~motion_mask(y, work_fs)
    if clipped.any():
        q = len(clipped) // len(y)
        valid &= ~clipped[: q * len(y)].reshape(len(y), q).any(axis=1)
    inverted = slope_skewness(y, valid) < _INVERTED_SKEW
    if inverted:
        y = -y
    clean_fraction = np.count_nonzero(valid) / len(valid)
    needed = _needed_s(len(y) / work_fs)
    if clean_fraction * len(y) < needed * work_fs:
        clean_s = clean_fraction * len(y) / work_fs
        return f"too much motion: {clean_s:.1f} s of clean signal, need {needed:.0f} s"
    used = _segments(valid, work_fs, t0)
    record = _Record(work_fs, float(clean_fraction), t0, used)
    found = _rhythms(y, valid, record, inverted=inverted)
    if isinstance(found, _Analysis) and found.quality >= MIN_QUALITY:
        return found
    # Nothing acceptable: some sensors' own filters leave a pulse whose slope misleads the
    # upright test; read the record the other way up before refusing it.
    flipped = _rhythms(-y, valid, record, inverted=not inverted)
    if isinstance(flipped, _Analysis) and (isinstance(found, str) or flipped.quality > found.quality):
        return flipped
    return found


@dataclass(frozen=True, slots=True)
class _Record:
    fs: float  # the working rate
    clean_fraction: float
    t0: float
    used_s: tuple[tuple[float, float], ...]


def _rhythms(y: FloatArray, valid: BoolArray, record: _Record, *, inverted: bool) -> _Analysis | str:
    """The best rhythm among the candidate periods of ``y`` held this way up (``_choose``)."""
    fs = record.fs
    spec = spectrum(y, valid, max_lag(fs))
    period, _ = dominant_period(spec, fs)
    ctx = _Context(spec, 60.0 / period, record.clean_fraction, record.t0, inverted, record.used_s)
    found: list[_Analysis] = []
    reason = "no regular pulse found"
    tried = _periods(spec, fs, period)
    for candidate in tried:
        result = _candidate(y, valid, fs, candidate, ctx)
        if isinstance(result, str):
            reason = result
        else:
            found.append(result)
    # Beats whose rate disagrees with the period they were picked at: pick again at their own
    # period (its refractory period and measures then fit the rhythm the beats show).
    for own in _distinct([60.0 / a.beats.bpm for a in found if a.features.agreement > 0.1], tried):
        result = _candidate(y, valid, fs, own, ctx)
        if not isinstance(result, str):
            found.append(result)
    return _choose(found, y, spec, fs) if found else reason


def _band_power(spec: Spectrum, fs: float, bpm: float) -> float:
    """Periodogram power within 8 % (at least 0.1 Hz) of the rate ``bpm``."""
    hz = bpm / 60.0
    width = max(0.1, 0.08 * hz)
    lo, hi = (min(len(spec.power), max(0, round(f * spec.n / fs))) for f in (hz - width, hz + width))
    return float(spec.power[lo : hi + 1].sum())


def _regular(f: Features) -> bool:
    """Nearly every interval kept, steady, and the beats alike: a train that is a rhythm."""
    return f.kept >= _REGULAR_KEPT and f.cv <= _REGULAR_CV and f.template >= _REGULAR_TEMPLATE


def _choose(found: list[_Analysis], y: FloatArray, spec: Spectrum, fs: float) -> _Analysis:
    """The best-quality rhythm, unless another acceptable rhythm runs at half or double its rate.

    Then the two are weighed the way a clinician would: a diastolic wave counted as a beat makes
    the faster train alternate tall-short and usually lands above 140 bpm (the slower one is the
    heart's); a train that skipped every other beat leaves beats of the same height in between
    (the faster one is the heart's). With no power at the slower rate in the spectrum, the slower
    rate cannot be a fundamental. A regular train of alike beats at double the rate is weighed
    even when one of its measures scored it low (a sensor's own filters can make a pulse rise as
    slowly as it falls): if it wins, its low quality refuses the record rather than reporting half
    the rate.
    """
    best = max(found, key=lambda a: a.quality)
    for other in found:
        ratio = other.beats.bpm / best.beats.bpm
        if not (1.8 <= ratio <= 2.2 or 1 / 2.2 <= ratio <= 1 / 1.8):
            continue
        if other.quality < MIN_QUALITY and not (ratio > 1 and _regular(other.features)):
            continue
        slow, fast = (best, other) if ratio > 1 else (other, best)
        share = _band_power(spec, fs, slow.beats.bpm) / max(_band_power(spec, fs, fast.beats.bpm), 1e-300)
        alternation = _alternation(y, fast.beats.index, fs, fast.period)
        if share < _FUNDAMENTAL_SHARE:
            return fast
        if fast.beats.bpm > _ALTERNATION_BPM and alternation < _ALTERNATION:
            return slow
        return fast if alternation >= _SKIPPED_ALTERNATION else slow
    return best


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
    screened = _screen_raw(x, fs)
    result = screened if isinstance(screened, str) else _analyse(x, fs, screened)
    if isinstance(result, str):
        return _refuse(result)
    quality = round(result.quality, 3)  # the reported value decides, so its word always matches
    reason = None if quality >= MIN_QUALITY else "low signal quality"
    return HeartRateEstimate(
        bpm=result.beats.bpm if reason is None else None,
        quality=quality,
        beat_times_s=tuple((result.beats.times_s + result.time_offset_s).tolist()),
        ibi_s=tuple(result.beats.ibi_s.tolist()),
        reason=reason,
        spectral_bpm=result.spectral_bpm,
        clean_fraction=result.features.clean_fraction,
        inverted=result.inverted,
        used_s=result.used_s,
    )
