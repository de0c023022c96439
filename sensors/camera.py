"""Fingertip-on-camera photoplethysmography: frames (or per-frame colour means) to a PPG signal.

With the torch on and a fingertip covering lens and flash, each frame is a nearly uniform red
image whose brightness falls slightly with every pulse (more blood absorbs more light). This
module takes the mean colour of a central region of each frame, resamples the chosen channel onto
a uniform time grid (frame times jitter and frames get dropped), removes the slow baseline and
inverts it so systolic peaks are maxima, ready for ``sensors.ppg.estimate_heart_rate``.

Colour values are on the 0-255 scale of 8-bit frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

MIN_TARGET_FS, MAX_TARGET_FS = 20.0, 500.0
_DARK = 20.0  # median red below this: torch off or lens uncovered in a dark place
_SATURATED = 250.0  # a channel whose median sits at or above this carries no pulse
_RED_DOMINANCE = 1.5  # a lit fingertip is far redder than green or blue
_BASELINE_S = 2.0
_MAX_SPAN_S = 3600.0


@dataclass(frozen=True, slots=True)
class CameraPPG:
    signal: FloatArray  # relative brightness change, inverted: systolic peaks are maxima
    fs: float  # the uniform rate of ``signal``
    channel: str  # "red" or "green": the channel the pulse was read from
    finger_covering: bool  # False when the frames do not look like a lit fingertip
    problem: str | None  # why the finger does not seem to cover the camera, or None
    mean_rgb: tuple[float, ...]  # median of the per-frame channel means
    covered_fraction: float  # share of frames that on their own look like a lit fingertip
    longest_gap_s: float  # longest interval between consecutive frames


def _roi_means(frames: NDArray[np.uint8]) -> FloatArray:
    """Per-frame mean colour of the central half (by height and width) of each frame."""
    h, w = frames.shape[1:3]
    roi = frames[:, h // 4 : h - h // 4 or h, w // 4 : w - w // 4 or w, :]
    means: FloatArray = roi.mean(axis=(1, 2), dtype=np.float64)
    return means


def _colour_means(frames_or_means: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(frames_or_means)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"frames_or_means is not an array: {exc}") from None
    if arr.ndim == 4 and arr.shape[3] == 3:
        if arr.dtype != np.uint8:
            raise ValueError(f"raw frames must be uint8 (N x H x W x 3), got {arr.dtype}")
        if arr.shape[1] == 0 or arr.shape[2] == 0:
            raise ValueError("raw frames are empty")
        return _roi_means(arr)
    if arr.ndim == 2 and arr.shape[1] in (2, 3):
        if arr.dtype.kind not in "uif":
            raise ValueError(f"colour means must be numbers, got {arr.dtype}")
        means = arr.astype(np.float64)
        if not np.isfinite(means).all():
            raise ValueError("colour means contain non-finite values")
        if means.min(initial=0.0) < 0 or means.max(initial=0.0) > 255:
            raise ValueError("colour means must be on the 0-255 scale")
        return means
    raise ValueError(
        f"expected per-frame means (N x 2 or N x 3) or raw frames (N x H x W x 3), got shape {arr.shape}"
    )


def _timestamps(timestamps_s: ArrayLike, n: int) -> FloatArray:
    try:
        t = np.asarray(timestamps_s, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"timestamps_s must be numbers: {exc}") from None
    if t.ndim != 1 or len(t) != n:
        raise ValueError(
            f"timestamps_s must be one-dimensional with one value per frame ({n}), got {t.shape}"
        )
    if not np.isfinite(t).all():
        raise ValueError("timestamps_s contains non-finite values")
    step = np.diff(t)
    if (step == 0).any():
        raise ValueError(f"timestamps_s has a duplicate at frame {int(np.argmax(step == 0)) + 1}")
    if (step < 0).any():
        raise ValueError(f"timestamps_s goes backwards at frame {int(np.argmax(step < 0)) + 1}")
    if t[-1] - t[0] > _MAX_SPAN_S:
        raise ValueError(f"timestamps_s spans more than {_MAX_SPAN_S:g} s: are they in seconds?")
    return t


def _coverage(rgb: FloatArray) -> tuple[str, str | None]:
    """The channel to read and the reason the frames do not look like a lit fingertip, if any."""
    red, green = float(rgb[0]), float(rgb[1])
    others = [float(v) for v in rgb[1:]]
    if red < _DARK:
        return "red", "too dark: turn the torch on and cover the lens and flash with a fingertip"
    if min(rgb) >= _SATURATED:
        return "red", "too bright: the image is saturated (nothing covers the lens)"
    if any(red < _RED_DOMINANCE * v for v in others):
        return "red", "the image is not red enough to be a lit fingertip"
    if red >= _SATURATED:
        if _DARK <= green < _SATURATED:
            return "green", None
        return "red", "red channel saturated: press more gently or move the finger"
    return "red", None


def _covered(means: FloatArray) -> float:
    """Share of frames lit, not saturated in every channel, and clearly red."""
    red = means[:, 0]
    others = means[:, 1:]
    ok = (
        (red >= _DARK)
        & (means.min(axis=1) < _SATURATED)
        & (red[:, None] >= _RED_DOMINANCE * others).all(axis=1)
    )
    return float(np.count_nonzero(ok)) / len(means)


def _moving_average(x: FloatArray, width: int) -> FloatArray:
    """Centred moving average, shortened at the edges."""
    c = np.concatenate(([0.0], np.cumsum(x)))
    idx = np.arange(len(x))
    lo = np.maximum(idx - width // 2, 0)
    hi = np.minimum(idx + width - width // 2, len(x))
    out: FloatArray = (c[hi] - c[lo]) / (hi - lo)
    return out


def frames_to_ppg(frames_or_means: ArrayLike, timestamps_s: ArrayLike, target_fs: float = 30.0) -> CameraPPG:
    """A uniformly sampled, detrended, inverted PPG from camera frames or per-frame colour means.

    ``frames_or_means`` is either N x 2 / N x 3 per-frame means (red, green[, blue]) or raw
    N x H x W x 3 uint8 RGB frames; ``timestamps_s`` holds the N capture times, strictly
    increasing (jitter and dropped frames are fine; duplicates or going backwards raise
    ``ValueError``).
    """
    if isinstance(target_fs, bool) or not isinstance(target_fs, int | float):
        raise ValueError("target_fs must be a number")
    if not math.isfinite(target_fs) or not MIN_TARGET_FS <= target_fs <= MAX_TARGET_FS:
        raise ValueError(f"target_fs must be between {MIN_TARGET_FS:g} and {MAX_TARGET_FS:g} Hz")
    means = _colour_means(frames_or_means)
    if len(means) < 2:
        raise ValueError("need at least two frames")
    t = _timestamps(timestamps_s, len(means))
    rgb = np.median(means, axis=0)
    channel, problem = _coverage(rgb)
    values = means[:, 0 if channel == "red" else 1]
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * target_fs)) + 1) / target_fs
    uniform = np.interp(grid, t, values)
    baseline = _moving_average(uniform, max(1, round(_BASELINE_S * target_fs)))
    signal = -(uniform - baseline) / max(float(np.mean(baseline)), 1e-9)
    return CameraPPG(
        signal=signal,
        fs=float(target_fs),
        channel=channel,
        finger_covering=problem is None,
        problem=problem,
        mean_rgb=tuple(float(v) for v in rgb),
        covered_fraction=_covered(means),
        longest_gap_s=float(np.max(np.diff(t))),
    )
