"""Beat picking and inter-beat-interval screening of the PPG estimator (see ``sensors.ppg``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

from sensors._ppg_dsp import BoolArray, FloatArray, median, refine_peaks

IntArray = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Beats:
    index: IntArray  # sample index of each systolic peak outside motion
    upslope: FloatArray  # steepest rise before each peak (per sample)
    times_s: FloatArray  # sub-sample peak times
    ibi_s: FloatArray  # accepted intervals between neighbouring clean beats
    candidates: int  # intervals between neighbouring clean beats, before screening
    beats_counted: int  # beats spanned by the accepted intervals and the bridged gaps
    span_s: float  # time those beats cover

    @property
    def bpm(self) -> float:
        return 60.0 * self.beats_counted / self.span_s if self.span_s > 0 else 0.0

    @property
    def kept(self) -> float:
        """Share of the clean intervals that agree with the rhythm."""
        return len(self.ibi_s) / self.candidates if self.candidates else 0.0

    @property
    def cv(self) -> float:
        """Beat-to-beat variation: spread of the accepted intervals around their running median,
        relative to it (a steady rise or fall of the rate does not count)."""
        if len(self.ibi_s) < 2:
            return 1.0
        ratio = self.ibi_s / _local_median(self.ibi_s) - 1.0
        return float(np.sqrt(np.dot(ratio, ratio) / len(ratio)))


def pick_beats(y: FloatArray, valid: BoolArray, fs: float, period: float) -> tuple[IntArray, FloatArray]:
    """Systolic peaks found from the steepest upslope of each beat, outside motion bursts.

    The systolic upstroke is the steepest rise of a pulse; within the refractory period tied to
    the rhythm only the steepest survives, so the gentler rise of the diastolic wave after the
    dicrotic notch never counts as a beat. Each beat's peak is the first maximum after its upslope.
    Returns the peak indices and the upslope of each.
    """
    slope = y[1:] - y[:-1]
    distance = max(1, int(0.6 * period * fs))
    up, props = sps.find_peaks(slope, distance=distance, prominence=0.0)
    keep = valid[up] & (slope[up] > 0)
    if not keep.any():
        return up[:0], np.empty(0)
    prominence = props["prominences"]
    up = up[keep & (prominence >= 0.35 * median(prominence[keep]))]
    falling = np.flatnonzero(slope <= 0)
    after = np.searchsorted(falling, up)
    found = after < len(falling)
    peaks = falling[after[found]]
    near = (peaks - up[found] < 0.45 * period * fs) & valid[peaks]
    return peaks[near], slope[up[found][near]]


def _bridge_gaps(times: FloatArray, accepted: BoolArray, ibi: FloatArray) -> tuple[int, float]:
    """Beats and time covered by the accepted intervals plus gaps that hold a whole number of beats.

    A gap is a run of consecutive unaccepted intervals (motion, a missed or an extra beat), taken
    whole from the last good beat before it to the first good beat after it, and measured against
    the mean of up to three accepted intervals on each side.
    """
    flags = np.concatenate(([1], accepted.view(np.int8), [1]))
    edges = flags[1:] - flags[:-1]
    first, last = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    if len(first) == 0:
        return len(ibi), float(ibi.sum())
    where = np.flatnonzero(accepted)
    sums = np.concatenate(([0.0], np.cumsum(ibi)))
    before, after = np.searchsorted(where, first), np.searchsorted(where, last)
    lo, hi = np.maximum(before - 3, 0), np.minimum(after + 3, len(ibi))
    count = (before - lo) + (hi - after)
    total = (sums[before] - sums[lo]) + (sums[hi] - sums[after])
    local = np.where(count > 0, total / np.maximum(count, 1), median(ibi))
    width = times[last] - times[first]
    ratio = width / local
    whole = np.rint(ratio)
    fits = (width <= 12.0) & (whole >= 1) & (np.abs(ratio - whole) < 0.3)
    return len(ibi) + int(whole[fits].sum()), float(ibi.sum() + width[fits].sum())


def _insert_missed(
    picked: tuple[IntArray, FloatArray], half: tuple[IntArray, FloatArray]
) -> tuple[IntArray, FloatArray]:
    """Add beats the full-period pick skipped where the rate rose: a half-period beat alone near
    the middle of an interval, rising at least 0.6 times as steeply as the beats on either side,
    in at least two neighbouring intervals."""
    idx, up = picked
    half_idx, half_up = half
    if len(idx) < 2 or len(half_idx) == 0:
        return picked
    pos = np.searchsorted(idx, half_idx)
    at = np.minimum(pos, len(idx) - 1)
    new = (
        (pos > 0) & (pos < len(idx)) & (np.abs(idx[at] - half_idx) > 2) & (np.abs(idx[at - 1] - half_idx) > 2)
    )
    at, h_idx, h_up = pos[new], half_idx[new], half_up[new]
    left, right = idx[at - 1], idx[at]
    where = (h_idx - left) / np.maximum(right - left, 1)
    alone = np.bincount(at, minlength=len(idx) + 1)[at] == 1
    fits = alone & (where >= 0.4) & (where <= 0.6) & (h_up >= 0.6 * np.minimum(up[at - 1], up[at]))
    # A faster rhythm lasts: keep only fills in neighbouring intervals, not a lone noise peak.
    filled = np.zeros(len(idx) + 2, dtype=bool)
    filled[at[fits]] = True
    add = fits & (filled[at - 1] | filled[at + 1])
    if not add.any():
        return picked
    order = np.argsort(np.concatenate((idx, h_idx[add])), kind="stable")
    return np.concatenate((idx, h_idx[add]))[order], np.concatenate((up, h_up[add]))[order]


def _local_median(values: FloatArray, width: int = 21) -> FloatArray:
    """Running median (edges use the nearest full window)."""
    if len(values) <= width:
        return np.full(len(values), median(values))
    windows = np.lib.stride_tricks.sliding_window_view(values, width)
    mid = np.partition(windows, width // 2, axis=1)[:, width // 2]
    head = width // 2
    return np.concatenate((np.full(head, mid[0]), mid, np.full(len(values) - len(mid) - head, mid[-1])))


def find_beats(y: FloatArray, valid: BoolArray, fs: float, picked: tuple[IntArray, FloatArray]) -> Beats:
    """Beats, the intervals between neighbouring clean beats that agree with the local rhythm, and
    the beat count across gaps.

    Intervals crossing a motion burst are not measured; where the time across a burst (or a
    rejected interval) holds a whole number of local beat intervals, those beats are counted, so
    the mean rate covers the whole record.
    """
    idx, upslope = picked
    times = refine_peaks(y, idx) / fs
    empty = Beats(idx, upslope, times, np.empty(0), 0, 0, 0.0)
    if len(idx) < 2:
        return empty
    gaps = np.searchsorted(np.flatnonzero(~valid), idx)  # motion samples before each beat
    clean_pair = gaps[1:] == gaps[:-1]
    candidates = (times[1:] - times[:-1])[clean_pair]
    if len(candidates) == 0:
        return empty
    good = np.abs(candidates / _local_median(candidates) - 1.0) < 0.3
    if not good.any():
        return empty
    accepted = clean_pair.copy()
    accepted[np.flatnonzero(clean_pair)[~good]] = False
    beats, span = _bridge_gaps(times, accepted, candidates[good])
    return Beats(idx, upslope, times, candidates[good], len(candidates), beats, span)


def _alternation(beats: Beats) -> float:
    """Ratio of the weaker to the stronger median upslope of odd and even beats (1 = no alternation)."""
    odd, even = beats.upslope[1::2], beats.upslope[::2]
    if len(odd) < 2:
        return 0.0
    a, b = median(odd), median(even)
    return min(a, b) / max(a, b) if max(a, b) > 0 else 0.0


def choose_rhythm(
    y: FloatArray,
    valid: BoolArray,
    fs: float,
    period: float,
    max_bpm: float,
    half_acf: float,
    *,
    try_half: bool = True,
) -> tuple[float, Beats]:
    """Beats at the autocorrelation period, or at half of it when that explains the record better.

    Noise or strong variability can make a multiple of the period look best; beats picked at half
    the period are then just as regular, twice as many and alike. When the half period instead
    catches the diastolic wave, intervals alternate short-long and upslopes weak-strong, and the
    full period stays, with only the half-period beats that fill the middle of an interval added
    (the rate rose during the record). ``half_acf`` is the autocorrelation at half the period: at
    half a true period the signal is in anti-phase (about -0.4 and below), so the half-period
    check only runs when it is not. ``try_half=False`` keeps the period and its beats as picked
    (the caller tries half of it separately).
    """
    picked = pick_beats(y, valid, fs, period)
    if not try_half or 120.0 / period > max_bpm or half_acf < -0.3:
        return period, find_beats(y, valid, fs, picked)
    half_picked = pick_beats(y, valid, fs, period / 2)
    half = find_beats(y, valid, fs, half_picked)
    if (
        try_half
        and len(half.index) >= 1.4 * len(picked[0])
        and half.kept >= 0.8
        and half.cv <= 0.12
        and _alternation(half) >= 0.5
    ):
        full = find_beats(y, valid, fs, picked)
        if 1.7 <= half.bpm / max(full.bpm, 1.0) <= 2.3 and half.cv <= max(0.12, 1.5 * full.cv):
            return period / 2, half
    return period, find_beats(y, valid, fs, _insert_missed(picked, half_picked))
