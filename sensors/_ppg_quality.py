"""Beat-shape measures and the signal-quality index of the PPG estimator (see ``sensors.ppg``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors._ppg_beats import Beats, IntArray
from sensors._ppg_dsp import FloatArray, median


@dataclass(frozen=True, slots=True)
class Shape:
    correlation: float  # median correlation of each beat with the median beat (1 = identical)
    upstroke: float  # rise time / (rise + fall time) of the median beat; ~0.5 for noise


def beat_shape(y: FloatArray, idx: IntArray, fs: float, period: float) -> Shape:
    """Similarity of the beats to their median, and how steep the median beat rises."""
    before, after = int(0.5 * period * fs), int(0.7 * period * fs)
    idx = idx[(idx >= before) & (idx + after < len(y))]
    if len(idx) < 3 or before < 2:
        return Shape(0.0, 0.5)
    rows = y[idx[:, None] + np.arange(-before, after)[None, :]]
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows = rows / np.where(norms > 0, norms, 1.0)
    template = np.partition(rows, len(rows) // 2, axis=0)[len(rows) // 2]
    norm = float(np.linalg.norm(template))
    if norm == 0:
        return Shape(0.0, 0.5)
    near = max(1, before // 8)
    peak = before - near + int(np.argmax(template[before - near : before + near + 1]))
    rise = peak - int(np.argmin(template[:peak])) if peak > 0 else 0
    fall = int(np.argmin(template[peak:]))
    upstroke = rise / (rise + fall) if rise + fall else 0.5
    return Shape(median(rows @ (template / norm)), upstroke)


def _ramp(value: float, lo: float, hi: float) -> float:
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


@dataclass(frozen=True, slots=True)
class Features:
    template: float  # beat-shape similarity, ``Shape.correlation``
    upstroke: float  # ``Shape.upstroke``
    bpm: float
    periodicity: float  # autocorrelation at the period and its multiples
    harmonic: float  # spectral power share at the beat frequency and its harmonics
    kept: float  # share of clean intervals that agree with the rhythm
    cv: float  # beat-to-beat spread of the accepted intervals around their running median
    clean_fraction: float  # share of the record outside motion bursts
    agreement: float  # relative difference between interval and autocorrelation rates


def features(
    beats: Beats,
    *,
    shape: Shape,
    periodicity: float,
    harmonic: float,
    clean_fraction: float,
    spectral_bpm: float,
) -> Features:
    return Features(
        template=shape.correlation,
        upstroke=shape.upstroke,
        bpm=beats.bpm,
        periodicity=periodicity,
        harmonic=harmonic,
        kept=beats.kept,
        cv=beats.cv,
        clean_fraction=clean_fraction,
        agreement=abs(beats.bpm / spectral_bpm - 1.0) if beats.span_s > 0 else 1.0,
    )


def quality_index(f: Features) -> float:
    """Geometric mean of per-feature scores in 0..1: any one poor aspect pulls quality down."""
    # Below ~100 bpm a pulse rises much faster than it falls; band-passed noise is symmetric. A
    # sensor that high-passes its own output makes the pulse symmetric too, so a record that repeats
    # at the period and its multiples (which noise does not) is not penalised for its shape.
    slow = _ramp(-f.bpm, -110.0, -80.0)
    # Periodicity and harmonic share assume a steady rate; when the rate drifts within the record,
    # near-identical beats at smoothly varying intervals are evidence enough.
    steady_beats = _ramp(f.template, 0.9, 0.97) * _ramp(-f.cv, -0.06, -0.03) * _ramp(f.kept, 0.9, 0.98)
    parts = (
        _ramp(f.template, 0.7, 0.95),
        max(_ramp(f.periodicity, 0.05, 0.5), steady_beats),
        max(_ramp(f.harmonic, 0.15, 0.6), steady_beats),
        _ramp(f.kept, 0.6, 0.95) * _ramp(-f.cv, -0.18, -0.06),
        _ramp(f.clean_fraction, 0.2, 0.6),
        _ramp(-f.agreement, -0.12, -0.02),
        1.0 - slow * (1.0 - max(_ramp(0.42 - f.upstroke, 0.0, 0.1), _ramp(f.periodicity, 0.35, 0.6))),
    )
    return float(math.prod(parts) ** (1.0 / len(parts)))
