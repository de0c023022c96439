"""Signal-processing steps of the PPG heart-rate estimator (see ``sensors.ppg``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import fft as spfft
from scipy import signal as sps

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

BAND_HZ = (0.5, 4.0)
MIN_BPM, MAX_BPM = 30.0, 220.0
WORK_FS_FLOOR = 25.0  # rates at or above twice this are block-averaged down to [25, 50) Hz


@lru_cache(maxsize=64)
def _bandpass_design(fs: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Second-order Butterworth band-pass (4 poles) for ``fs``: numerator, denominator, initial state.

    With only four poles, all of them at |z| < 0.98 for the working rates, the transfer-function
    form matches the second-order-sections form to ~1e-12 and filters several times faster.
    """
    b, a = sps.butter(2, BAND_HZ, btype="bandpass", fs=fs)
    zi = sps.lfilter_zi(b, a)
    return np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64), np.asarray(zi, dtype=np.float64)


def median(values: FloatArray) -> float:
    """Median by partial sort (``numpy.median`` costs far more on short arrays)."""
    n = len(values)
    k = n // 2
    part = np.partition(values, k)
    return float(part[k]) if n % 2 else 0.5 * (float(part[k]) + float(part[:k].max()))


def quantile(values: FloatArray, q: float) -> float:
    """The order statistic at fraction ``q`` (no interpolation)."""
    k = min(len(values) - 1, int(q * len(values)))
    return float(np.partition(values, k)[k])


def decimate(x: FloatArray, fs: float) -> tuple[FloatArray, float, float]:
    """Block-average by an integer factor into [25, 50) Hz (its nulls sit on the aliases of 0 Hz).

    Returns the samples, their rate and the time of the first one (the centre of its block).
    """
    q = int(fs // WORK_FS_FLOOR)
    if q <= 1:
        return x, fs, 0.0
    n = len(x) // q
    return x[: n * q].reshape(n, q).mean(axis=1), fs / q, (q - 1) / (2.0 * fs)


def bandpass(x: FloatArray, fs: float) -> FloatArray:
    """Zero-phase Butterworth band-pass over the cardiac band (forward-backward, 1 s odd padding)."""
    b, a, zi = _bandpass_design(round(fs, 6))
    pad = min(len(x) - 1, int(fs))
    ext = np.concatenate((2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]))
    forward, _ = sps.lfilter(b, a, ext, zi=zi * ext[0])
    backward, _ = sps.lfilter(b, a, forward[::-1], zi=zi * forward[-1])
    y: FloatArray = backward[::-1][pad : pad + len(x)]
    return y


def slope_skewness(y: FloatArray, valid: BoolArray) -> float:
    """Skewness of the sample-to-sample slope over valid samples.

    A pulse rises fast and falls slowly, so the slope of an upright PPG is positively skewed; a
    raw light-intensity signal (where more blood means less light) is skewed the other way.
    Noise gives values near zero.
    """
    slope = (y[1:] - y[:-1])[valid[1:] & valid[:-1]]
    if len(slope) < 3:
        return 0.0
    slope = slope - float(slope.sum()) / len(slope)
    square = slope * slope
    var = float(square.sum()) / len(slope)
    return float(np.dot(square, slope)) / len(slope) / var**1.5 if var > 0 else 0.0


def moving_rms(y: FloatArray, width: int) -> FloatArray:
    """Centred moving root-mean-square over ``width`` samples (edge samples repeat the nearest
    full window)."""
    width = max(1, min(width, len(y)))
    c = np.cumsum(y * y)
    full = np.empty(len(y) - width + 1)
    full[0] = c[width - 1]
    full[1:] = c[width:] - c[:-width]
    head = width // 2
    tail = len(y) - len(full) - head
    padded = np.concatenate((np.full(head, full[0]), full, np.full(tail, full[-1])))
    out: FloatArray = np.sqrt(np.maximum(padded, 0.0) / width)
    return out


def dilate(mask: BoolArray, radius: int) -> BoolArray:
    """Grow ``True`` runs by ``radius`` samples on each side."""
    if radius <= 0 or not mask.any():
        return mask
    flags = np.concatenate(([0], mask.view(np.int8), [0]))
    edges = flags[1:] - flags[:-1]
    starts = np.maximum(np.flatnonzero(edges == 1) - radius, 0)
    stops = np.minimum(np.flatnonzero(edges == -1) + radius, len(mask))
    grown = np.zeros(len(mask), dtype=bool)
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        grown[start:stop] = True
    return grown


def motion_mask(y: FloatArray, fs: float) -> BoolArray:
    """Samples inside high-amplitude bursts, relative to the quieter part of the record."""
    env = moving_rms(y, max(3, int(1.5 * fs)))
    reference = quantile(env, 0.3)
    if reference <= 0:
        return np.zeros(len(y), dtype=bool)
    return dilate(env > 2.0 * reference, int(0.6 * fs))


@dataclass(frozen=True, slots=True)
class Spectrum:
    acf: FloatArray  # normalised autocorrelation by lag (samples), gaps not counted as zeros
    reliable: int  # lags below this have enough sample pairs to trust ``acf``
    power: FloatArray  # periodogram of the clean part, bins of ``fs / n``
    n: int


def spectrum(y: FloatArray, valid: BoolArray, max_lag: int) -> Spectrum:
    """Periodogram and autocorrelation of the valid samples from one transform."""
    n = spfft.next_fast_len(len(y) + max_lag + 1, real=True)
    if valid.all():
        transform = spfft.rfft(y, n)
        pairs = len(y) - np.arange(max_lag + 1, dtype=np.float64)
    else:
        transform = spfft.rfft(np.where(valid, y, 0.0), n)
        weights = spfft.rfft(valid.astype(np.float64), n)
        pairs = spfft.irfft(weights.real**2 + weights.imag**2, n)[: max_lag + 1]
    power = transform.real**2 + transform.imag**2
    num = spfft.irfft(power, n)[: max_lag + 1]
    acf = num / np.maximum(pairs, 1.0)
    few = np.flatnonzero(pairs < 0.25 * pairs[0])
    reliable = int(few[0]) if len(few) else max_lag + 1
    if acf[0] <= 0:
        return Spectrum(np.zeros(max_lag + 1), 0, power, n)
    return Spectrum(acf / acf[0], reliable, power, n)


def harmonic_fraction(spec: Spectrum, fs: float, period: float) -> float:
    """Share of the cardiac-band power near the beat frequency and its harmonics (0..1)."""
    cumulative = np.concatenate(([0.0], np.cumsum(spec.power)))

    def band(lo_hz: float, hi_hz: float) -> float:
        lo, hi = (min(len(spec.power), max(0, round(f * spec.n / fs))) for f in (lo_hz, hi_hz))
        return float(cumulative[hi] - cumulative[lo])

    total = band(BAND_HZ[0] - 0.1, BAND_HZ[1] + 0.5)
    if total <= 0:
        return 0.0
    f0, near = 1.0 / period, 0.0
    for k in range(1, int((BAND_HZ[1] + 0.5) * period) + 1):
        width = 0.05 + 0.04 * k * f0
        near += band(k * f0 - width, k * f0 + width)
    return min(1.0, near / total)


def max_lag(fs: float) -> int:
    """Autocorrelation lags needed by ``dominant_period``: multiples of the period up to 4 s."""
    return max(2 * int(np.ceil(fs * 60.0 / MIN_BPM)), int(4.0 * fs)) + 2


def _running_max(values: FloatArray, radius: int) -> FloatArray:
    out = values.copy()
    for shift in range(1, radius + 1):
        np.maximum(out[:-shift], values[shift:], out=out[:-shift])
        np.maximum(out[shift:], values[:-shift], out=out[shift:])
    return out


def dominant_period(spec: Spectrum, fs: float) -> tuple[float, float]:
    """The beat period (s) from the autocorrelation, and the periodicity there (0..1).

    Each autocorrelation peak in the plausible range is scored by the mean autocorrelation at its
    multiples (up to 4 s), so the true period, whose multiples are all peaks, beats both its own
    multiples (earliest wins a near tie) and lags such as systolic-to-diastolic that do not repeat.
    """
    lo, hi = math.ceil(fs * 60.0 / MAX_BPM), math.ceil(fs * 60.0 / MIN_BPM)
    acf = spec.acf
    span = min(len(acf) - 3, spec.reliable - 1)
    peaks, _ = sps.find_peaks(acf[: min(hi, span) + 1])
    peaks = peaks[(peaks >= lo) & (acf[peaks] > 0)]
    if len(peaks) == 0:
        return 60.0 / 75.0, 0.0
    lags = refine_peaks(acf, peaks)
    wide = _running_max(acf, max(1, int(0.03 * fs)))
    idx = np.rint(np.outer(lags, np.arange(1, span // lo + 1))).astype(np.intp)
    inside = idx <= span
    scores = (wide[np.minimum(idx, span)] * inside).sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
    best = int(np.argmax(scores >= 0.85 * scores.max()))
    return float(lags[best]) / fs, float(np.clip(scores[best], 0.0, 1.0))


def refine_peaks(y: FloatArray, idx: NDArray[np.intp]) -> FloatArray:
    """Sub-sample peak positions by parabolic interpolation."""
    pos = idx.astype(np.float64)
    i = idx[(idx > 0) & (idx < len(y) - 1)]
    if len(i) == 0:
        return pos
    a, b, c = y[i - 1], y[i], y[i + 1]
    denom = a - 2 * b + c
    curved = denom < 0
    shift = np.zeros(len(i))
    shift[curved] = 0.5 * (a[curved] - c[curved]) / denom[curved]
    pos[(idx > 0) & (idx < len(y) - 1)] += np.clip(shift, -0.5, 0.5)
    return pos
